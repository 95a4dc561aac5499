"""A corpus of malformed and hostile inputs, built on demand (never committed as files).

Each case is a path a person could hand to ``reciprocity load``: wrong shapes at every level of
each format, odd zips (encrypted, unsupported compression), cycles and huge depth, non-UTF-8,
19-digit ids, hostile handles, files that are folders and folders that are files, a FIFO.
``tests/test_hostile_inputs.py`` runs the loader on every one and asserts that it either loads
(counting what it repaired) or stops with exit code 2 and one line naming the file.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import libipld
from fixtures.io.make_fixtures import cid_of as _cid
from fixtures.io.make_fixtures import varint as _varint

SCRIPT = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'


@dataclass
class Case:
    name: str
    path: Path
    args: list[str] = field(default_factory=list)
    loads: bool = False  # True: the input is valid (hostile text, odd layout) and must load


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _ytd(name: str, records) -> str:
    return f"window.YTD.{name}.part0 = " + json.dumps(records)


def _manifest(user, data_types=None, names=("follower", "following")) -> str:
    types = (
        data_types
        if data_types is not None
        else {name: {"files": [{"fileName": f"data/{name}.js", "globalName": f"YTD.{name}.part0", "count": "1"}]} for name in names}
    )
    return "window.__THAR_CONFIG = " + json.dumps(
        {"userInfo": user, "archiveInfo": {"generationDate": "2024-01-01T00:00:00.000Z"}, "dataTypes": types}
    )


OWNER = {"accountId": "1234567890123456789", "userName": "owner", "displayName": "Owner"}
FOLLOWERS = [{"follower": {"accountId": "9007199254740993", "userLink": "https://twitter.com/intent/user?user_id=9007199254740993"}}]
FOLLOWING = [{"following": {"accountId": "111", "userLink": "https://twitter.com/intent/user?user_id=111"}}]


def _x_archive(folder: Path, manifest=None, follower=None, following=None, extra: dict[str, str | bytes] | None = None) -> Path:
    data = folder / "data"
    listed = ("follower", "following", *(name.removesuffix(".js") for name in extra or {}))
    _write(data / "manifest.js", _manifest(OWNER, names=listed) if manifest is None else manifest)
    _write(data / "follower.js", _ytd("follower", FOLLOWERS) if follower is None else follower)
    _write(data / "following.js", _ytd("following", FOLLOWING) if following is None else following)
    for name, content in (extra or {}).items():
        _write(data / name, content)
    return folder


def _zip_of(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return target


def _patch_zip_headers(path: Path, flag: int | None = None, method: int | None = None) -> Path:
    """Set the general-purpose flag or compression method of every entry (local and central headers)."""
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            if flag is not None:
                struct.pack_into("<H", data, at + flag_offset, struct.unpack_from("<H", data, at + flag_offset)[0] | flag)
            if method is not None:
                struct.pack_into("<H", data, at + flag_offset + 2, method)
            start = at + 4
    path.write_bytes(bytes(data))
    return path


def _truncated_gzip_edges() -> bytes:
    import gzip

    lines = "".join(f"{i} {i * 7919 % 100_003}\n" for i in range(20_000)).encode()
    whole = gzip.compress(lines)
    return whole[: len(whole) // 2]


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _instagram_entry(name: str) -> dict:
    return {
        "title": "",
        "media_list_data": [],
        "string_list_data": [{"href": f"https://www.instagram.com/{name}", "timestamp": 1700000000, "value": name}],
    }


def _car(root: bytes, blocks: list[tuple[bytes, bytes]]) -> bytes:
    """A CAR v1 file whose sections carry the given (cid, block) pairs: the cids are not checked against the blocks."""
    header = libipld.encode_dag_cbor({"roots": [root], "version": 1})
    body = b"".join(_varint(len(cid) + len(block)) + cid + block for cid, block in blocks)
    return _varint(len(header)) + header + body


def _bluesky_repo(node: object, records: dict[bytes, object] | None = None, node_cid: bytes | None = None) -> bytes:
    """A version-3 repository whose tree root is ``node`` (any value), stored under ``node_cid``."""
    encoded_node = libipld.encode_dag_cbor(node)
    node_cid = node_cid or _cid(encoded_node)
    commit = libipld.encode_dag_cbor({"did": "did:plc:owner", "version": 3, "data": node_cid, "rev": "3abc", "prev": None, "sig": b"\x00"})
    blocks = [(_cid(commit), commit), (node_cid, encoded_node)]
    blocks += [(cid, libipld.encode_dag_cbor(record)) for cid, record in (records or {}).items()]
    return _car(_cid(commit), blocks)


def build_corpus(root: Path) -> list[Case]:
    """Write every case under ``root`` and return them."""
    cases: list[Case] = []

    def add(name: str, path: Path, *args: str, loads: bool = False) -> None:
        cases.append(Case(name, path, list(args), loads))

    # --- X archives: wrong shapes at each level ------------------------------------------------
    add("x manifest userInfo is text", _x_archive(root / "x_user_text", manifest=_manifest("owner")))
    add("x manifest dataTypes is a list", _x_archive(root / "x_types_list", manifest=_manifest(OWNER, data_types=[])))
    add(
        "x manifest files is text",
        _x_archive(root / "x_files_text", manifest=_manifest(OWNER, data_types={"follower": {"files": "data/follower.js"}})),
    )
    add("x manifest is not an object", _x_archive(root / "x_manifest_list", manifest="window.__THAR_CONFIG = [1, 2]"))
    add("x follower.js is a list of strings", _x_archive(root / "x_follower_strings", follower=_ytd("follower", ["a", "b"])))
    add("x follower.js entry without its key", _x_archive(root / "x_follower_nokey", follower=_ytd("follower", [{"follower": {}}])))
    add("x follower.js entry is null", _x_archive(root / "x_follower_null", follower=_ytd("follower", [None])))
    add("x follower.js is an object", _x_archive(root / "x_follower_object", follower=_ytd("follower", {"follower": 1})))
    # Ids are text: a 24-digit number is kept digit for digit (never rounded through a float).
    add(
        "x follower id beyond 64 bits",
        _x_archive(root / "x_follower_overflow", follower=_ytd("follower", [{"follower": {"accountId": 123456789012345678901234}}])),
        loads=True,
    )
    add(
        "x follower id is a float", _x_archive(root / "x_follower_float", follower=_ytd("follower", [{"follower": {"accountId": 1.5e300}}]))
    )
    add(
        "x follower.js nested 100,000 deep",
        _x_archive(root / "x_follower_deep", follower="window.YTD.follower.part0 = " + _deep_json(100_000)),
    )
    add("x follower.js is not UTF-8", _x_archive(root / "x_follower_latin1", follower=_ytd("follower", FOLLOWERS).encode() + b"\xff\xfe"))
    add(
        "x tweets.js with entities as text",
        _x_archive(
            root / "x_tweets_entities",
            extra={
                "tweets.js": _ytd(
                    "tweets",
                    [{"tweet": {"id_str": "1", "full_text": "hi", "created_at": "Mon Jan 03 10:00:00 +0000 2022", "entities": "x"}}],
                )
            },
        ),
    )
    add(
        "x tweets.js with a bad date",
        _x_archive(
            root / "x_tweets_date",
            extra={
                "tweets.js": _ytd(
                    "tweets",
                    [
                        {
                            "tweet": {
                                "id_str": "1",
                                "full_text": "hi",
                                "created_at": "yesterday",
                                "entities": {"user_mentions": [{"id_str": "111", "screen_name": "ann"}]},
                            }
                        }
                    ],
                )
            },
        ),
        loads=True,
    )
    add("x like.js entries are numbers", _x_archive(root / "x_like_numbers", extra={"like.js": _ytd("like", [1, 2, 3])}))
    add(
        "x hostile owner name",
        _x_archive(root / "x_owner_script", manifest=_manifest({**OWNER, "userName": SCRIPT, "displayName": SCRIPT})),
        loads=True,
    )
    zipped = _zip_of(_x_archive(root / "x_for_zips"), root / "x_encrypted.zip")
    add("x zip with encrypted members", _patch_zip_headers(zipped, flag=0x1))
    ppmd = _zip_of(root / "x_for_zips", root / "x_ppmd.zip")
    add("x zip with PPMd compression", _patch_zip_headers(ppmd, method=98))
    add("x zip truncated to half", _write(root / "x_half.zip", _zip_of(root / "x_for_zips", root / "x_whole.zip").read_bytes()[:300]))
    add("x zip that is not a zip", _write(root / "x_fake.zip", b"PK\x03\x04 not really a zip at all"))

    # --- Generic folder format -----------------------------------------------------------------
    generic = root / "generic_coverage_list"
    _write(generic / "follows.csv", "follower_id,followee_id\n1,2\n2,1\n")
    _write(generic / "coverage.json", "[1, 2, 3]")
    add("generic coverage.json is a list", generic)
    generic = root / "generic_coverage_script"
    _write(generic / "follows.csv", "follower_id,followee_id\n1,2\n2,1\n")
    _write(generic / "coverage.json", json.dumps({"notes": [SCRIPT]}))
    add("generic coverage notes hold a script", generic, loads=True)
    generic = root / "generic_follows_is_folder"
    (generic / "follows.csv").mkdir(parents=True)
    add("generic follows.csv is a folder", generic)
    generic = root / "generic_missing_columns"
    _write(generic / "follows.csv", "who,whom\n1,2\n")
    add("generic follows.csv without its columns", generic)
    generic = root / "generic_19_digit_ids"
    _write(
        generic / "follows.csv",
        "follower_id,followee_id\n9223372036854775807,1234567890123456789\n1234567890123456789,9223372036854775807\n",
    )
    add("generic 19-digit ids", generic, loads=True)
    generic = root / "generic_bad_times"
    _write(generic / "follows.csv", "follower_id,followee_id,followed_at\n1,2,not a date\n2,1,2024-01-01\n")
    add("generic follow time that is not a date", generic)

    # --- Instagram ---------------------------------------------------------------------------
    insta = root / "instagram_list_text" / "connections" / "followers_and_following"
    _write(insta / "followers_1.json", json.dumps([{"string_list_data": "ann"}]))
    _write(insta / "following.json", json.dumps({"relationships_following": [_instagram_entry("bob")]}))
    add("instagram string_list_data is text", root / "instagram_list_text")
    insta = root / "instagram_following_list" / "connections" / "followers_and_following"
    _write(insta / "followers_1.json", json.dumps([_instagram_entry("ann")]))
    _write(insta / "following.json", json.dumps([1, 2]))
    add("instagram following.json is a list of numbers", root / "instagram_following_list")

    loose = root / "instagram_loose"
    _write(loose / "followers_1.json", json.dumps([_instagram_entry("ann"), _instagram_entry("bob")]))
    _write(loose / "following.json", json.dumps({"relationships_following": [_instagram_entry("ann")]}))
    add("instagram files kept loose in a folder", loose, loads=True)
    single = root / "instagram_single" / "connections" / "followers_and_following"
    _write(single / "followers_1.json", json.dumps(_instagram_entry("ann")))
    _write(single / "following.json", json.dumps({"relationships_following": [_instagram_entry("ann")]}))
    add("instagram followers file holding one entry object", root / "instagram_single", loads=True)

    # --- Mastodon ------------------------------------------------------------------------------
    masto = root / "mastodon_outbox_strings"
    _write(masto / "actor.json", json.dumps({"id": "https://example.social/users/me", "type": "Person", "preferredUsername": "me"}))
    _write(masto / "outbox.json", json.dumps({"type": "OrderedCollection", "orderedItems": ["a", 1, None]}))
    _write(masto / "following_accounts.csv", "Account address,Show boosts\nann@other.example,true\n")
    add("mastodon outbox items are strings", masto)
    masto = root / "mastodon_outbox_object"
    _write(masto / "actor.json", json.dumps({"id": "https://example.social/users/me", "type": "Person", "preferredUsername": "me"}))
    _write(masto / "outbox.json", json.dumps({"type": "OrderedCollection", "orderedItems": {"a": 1}}))
    _write(masto / "following_accounts.csv", "Account address,Show boosts\nann@other.example,true\n")
    add("mastodon orderedItems is an object", masto)
    masto = root / "mastodon_actor_list"
    _write(masto / "actor.json", "[]")
    _write(masto / "outbox.json", json.dumps({"type": "OrderedCollection", "orderedItems": []}))
    add("mastodon actor.json is a list", masto)

    add("mastodon blocked_accounts.csv given as a file", _write(root / "blocked_accounts.csv", "ann@other.example\nbob@example.social\n"))
    add(
        "mastodon muted_accounts.csv given as a file",
        _write(root / "muted_accounts.csv", "Account address,Hide notifications\nann@other.example,true\n"),
    )

    # --- Bluesky -------------------------------------------------------------------------------
    add("bluesky .car of random bytes", _write(root / "random.car", os.urandom(64)))
    add("bluesky tree node is a list", _write(root / "node_list.car", _bluesky_repo([1, 2, 3])))
    add("bluesky tree node lacks its keys", _write(root / "node_nokeys.car", _bluesky_repo({"x": 1})))
    record_cid = _cid(b"record")
    add(
        "bluesky record is an integer",
        _write(
            root / "record_int.car",
            _bluesky_repo({"l": None, "e": [{"p": 0, "k": b"app.bsky.graph.follow/1", "v": record_cid, "t": None}]}, {record_cid: 7}),
        ),
    )
    add("bluesky tree entry is text", _write(root / "entry_text.car", _bluesky_repo({"l": None, "e": ["x"]})))
    self_cid = _cid(b"a node that names itself")
    add("bluesky tree node points at itself", _write(root / "node_cycle.car", _bluesky_repo({"l": self_cid, "e": []}, node_cid=self_cid)))
    (root / "x.car").mkdir()
    add("a folder named x.car", root / "x.car")

    # --- Research graph files --------------------------------------------------------------------
    add("GML nested 100,000 deep", _write(root / "deep.gml", "graph [ directed 1 " + "a [ " * 100_000 + "] " * 100_000 + "]"))
    add(
        "GraphML weight overflowing a C long",
        _write(
            root / "overflow.graphml",
            (
                '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
                '<key id="w" for="edge" attr.name="weight" attr.type="long"/>'
                '<graph edgedefault="directed"><node id="1"/><node id="2"/>'
                '<edge source="1" target="2"><data key="w">99999999999999999999999999</data></edge></graph></graphml>'
            ),
        ),
        loads=True,
    )
    add("GraphML that is not XML", _write(root / "broken.graphml", "<graphml><graph"))
    add(
        "GEXF with a document type declaring entities",
        _write(
            root / "laughs.gexf",
            (
                '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                '<gexf xmlns="http://gexf.net/1.3"><graph defaultedgetype="directed"><nodes><node id="&lol3;"/></nodes></graph></gexf>'
            ),
        ),
        loads=True,
    )
    add(
        "Pajek with a hostile network name",
        _write(root / "hostile.net", f'*Network {SCRIPT}\n*Vertices 2\n1 "a"\n2 "b"\n*Arcs\n1 2\n2 1\n'),
        loads=True,
    )
    add("Pajek arc to a vertex that does not exist", _write(root / "bad_arc.net", '*Vertices 2\n1 "a"\n2 "b"\n*Arcs\n1 9\n'))
    add("MatrixMarket with a header that lies", _write(root / "lies.mtx", "%%MatrixMarket matrix coordinate\n3 3 5\n1 2\n"))
    add("an empty .edges file", _write(root / "empty.edges", ""))
    add("an edge list of words", _write(root / "words.edges", "alpha beta\ngamma delta\n"))
    import gzip

    add("a gzip-compressed SNAP edge list", _write(root / "ties.txt.gz", gzip.compress(b"# Directed\n1 2\n2 1\n3 1\n")), loads=True)
    add("a truncated gzip edge list", _write(root / "cut.txt.gz", _truncated_gzip_edges()))
    egos = root / "ego_networks"
    _write(egos / "12.edges", "1 2\n2 1\n")
    _write(egos / "34.edges", "2 1\n3 4\n")
    _write(egos / "12.circles", "circle0\t1\t2\n")
    add("a folder of SNAP ego .edges files", egos, loads=True)
    one_car = root / "bluesky_folder"
    _write(one_car / "repo.car", _bluesky_repo({"l": None, "e": []}))
    add("a folder holding one .car", one_car, loads=True)
    add("twarc JSONL whose lines are not objects", _write(root / "lines.jsonl", '1\n[2]\n"three"\n'))

    # --- Files that are not files --------------------------------------------------------------
    fifo = root / "follows.edges"
    os.mkfifo(fifo)
    add("a FIFO named like an edge list", fifo)
    loop = root / "link_loop"
    loop.mkdir()
    (loop / "self").symlink_to(loop, target_is_directory=True)
    _write(loop / "follows.csv", "follower_id,followee_id\n1,2\n")
    add("a folder holding a link to itself", loop, loads=True)
    return cases
