"""Instagram "download your information" (JSON): both follow directions with follow times.

The folder ``followers_and_following/`` (at the top of the export or under ``connections/``)
holds ``followers_1.json`` (``followers_2.json``, ... when split) and ``following.json``
(``relationships_following``): entries whose ``string_list_data`` carry the ``href``, the
handle as ``value`` (newer exports may leave it out and put the handle in the entry's
``title``, or only in the ``href``) and a Unix ``timestamp``. Instagram exports no numeric ids,
so **handles are the account ids**.

The other files become labels of the accounts concerned: ``close_friends.json``
("close_friend", a circle), follow requests sent and still pending ("request_pending"), the
owner's recent follow requests ("requested_recently"), requests received ("request_received"),
recently unfollowed profiles ("unfollowed_recently"), blocked and restricted profiles, and
removed suggestions. Accounts named only in those files are counted, not added.

The owner is named in ``personal_information/personal_information.json`` when the export
includes it; otherwise the owner's account is ``owner_id`` (default "owner") with a note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..model import Coverage, DatasetValidationError, RawTable, StudyDataset, build_dataset
from .common import DEFAULT_MAX_ARCHIVE_BYTES, InputTree, parse_json

FOLDER = "followers_and_following/"
LABEL_FILES = {
    "close_friends.json": "close_friend",
    "pending_follow_requests.json": "request_pending",
    "recent_follow_requests.json": "requested_recently",
    "follow_requests_you've_received.json": "request_received",
    "recently_unfollowed_profiles.json": "unfollowed_recently",
    "blocked_profiles.json": "blocked",
    "restricted_profiles.json": "restricted",
    "removed_suggestions.json": "suggestion_removed",
}
PROFILE_LINK = r"instagram\.com/(?:_u/)?(?P<handle>[A-Za-z0-9._]+)"


def locate_instagram(tree: InputTree) -> str | None:
    """Point the tree at the export's top folder; return where followers_and_following/ is in it."""
    for folder in ("connections/" + FOLDER, FOLDER):
        for marker in ("following.json", "followers_1.json"):
            if tree.locate(folder + marker):
                return folder
    # The two files kept loose in a folder of their own: followers_1.json is Instagram's name.
    if tree.locate("followers_1.json"):
        return ""
    return None


def read_relationship_file(tree: InputTree, name: str) -> pd.DataFrame:
    """``handle``, ``at`` (UTC) and the entry's position, from one relationships file."""
    origin = tree.origin(name)
    data = parse_json(tree.read_text(name), origin)
    if isinstance(data, dict) and "string_list_data" in data:
        data = [data]  # one entry written as an object rather than a list of one
    if isinstance(data, dict):
        lists = [v for k, v in data.items() if k.startswith("relationships_") and isinstance(v, list)]
        if len(lists) != 1:
            raise DatasetValidationError(
                origin, "top level", "relationships_*", "one list named relationships_<kind>", ", ".join(data)[:80]
            )
        data = lists[0]
    if not isinstance(data, list):
        raise DatasetValidationError(origin, "top level", "(file)", "a JSON list of entries", type(data).__name__)
    entries = pd.DataFrame({"entry": data})
    bad = ~entries["entry"].map(lambda e: isinstance(e, dict) and isinstance(e.get("string_list_data", []), list))
    if bad.any():
        position = int(bad.idxmax())
        raise DatasetValidationError(
            origin, f"entry {position + 1}", "string_list_data", "an object with a string_list_data list", str(data[position])[:80]
        )
    titles = entries["entry"].map(lambda e: e.get("title")).astype("string")
    items = entries.assign(title=titles, item=entries["entry"].map(lambda e: e.get("string_list_data") or [{}])).explode("item")
    details = pd.json_normalize(items["item"].tolist())
    details.index = items.index
    column = lambda key: details[key].astype("string") if key in details else pd.Series(pd.NA, index=details.index, dtype="string")
    handle = column("value").replace("", pd.NA)
    handle = handle.fillna(items["title"].replace("", pd.NA)).fillna(column("href").str.extract(PROFILE_LINK)["handle"])
    missing = handle.isna()
    if missing.any():
        position = int(handle.index[missing][0])
        raise DatasetValidationError(
            origin, f"entry {position + 1}", "value", "an account handle in value, title or href", str(data[position])[:80]
        )
    stamp = column("timestamp")
    bad_stamp = stamp.notna() & ~stamp.str.fullmatch(r"\d+").fillna(False).astype(bool)
    if bad_stamp.any():
        position = int(stamp.index[bad_stamp][0])
        raise DatasetValidationError(origin, f"entry {position + 1}", "timestamp", "a Unix time in whole seconds", str(stamp[position]))
    at = pd.to_datetime(pd.to_numeric(stamp), unit="s", utc=True).dt.as_unit("us")
    return pd.DataFrame({"handle": handle.str.strip().str.lstrip("@"), "at": at}).reset_index(drop=True)


def _owner_handle(tree: InputTree) -> str | None:
    for name in (
        "personal_information/personal_information/personal_information.json",
        "personal_information/personal_information.json",
        "account_information/personal_information.json",
    ):
        if tree.exists(name):
            data: Any = parse_json(tree.read_text(name), tree.origin(name))
            profile = (data.get("profile_user") or [{}])[0] if isinstance(data, dict) else {}
            username = ((profile.get("string_map_data") or {}).get("Username") or {}).get("value")
            if username:
                return str(username)
    return None


def load_instagram(path: str | Path, owner_id: str | None = None, max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES) -> StudyDataset:
    """An Instagram export (zip or folder): followers and following of the owner, with follow times."""
    with InputTree.open(path, max_bytes=max_archive_bytes) as tree:
        folder = locate_instagram(tree)
        if folder is None:
            raise FileNotFoundError(f"{path}: an Instagram export needs followers_and_following/following.json or followers_1.json")
        notes: list[str] = []
        owner = _owner_handle(tree)
        if owner is None:
            owner = owner_id or "owner"
            notes.append(f"The export does not name its owner here: the owner's account is called {owner!r}.")
        elif owner_id and owner_id != owner:
            raise DatasetValidationError(
                tree.origin("personal_information"), "Username", "owner_id", f"the owner given ({owner_id})", owner
            )
        names = tree.names()
        follower_files = sorted(
            (
                n
                for n in names
                if n.startswith(folder + "followers_")
                and n.endswith(".json")
                and "/" not in n[len(folder) :]
                and n[len(folder) + len("followers_") : -len(".json")].isdigit()
            ),
            key=lambda n: int("".join(filter(str.isdigit, n)) or 0),
        )
        following_file = folder + "following.json"
        followers = pd.concat([read_relationship_file(tree, n) for n in follower_files], ignore_index=True) if follower_files else None
        following = read_relationship_file(tree, following_file) if tree.exists(following_file) else None
        if followers is None:
            notes.append("No followers_N.json: who follows the owner is not known.")
        if following is None:
            notes.append("No following.json: whom the owner follows is not known.")
        frames = []
        if followers is not None:
            frames.append(
                pd.DataFrame(
                    {"follower_id": followers["handle"], "followee_id": owner, "followed_at": followers["at"], "source": "followers"}
                )
            )
        if following is not None:
            frames.append(
                pd.DataFrame(
                    {"follower_id": owner, "followee_id": following["handle"], "followed_at": following["at"], "source": "following.json"}
                )
            )
        follows = pd.concat(frames, ignore_index=True)
        accounts = pd.DataFrame(
            {"account_id": pd.concat([pd.Series([owner]), follows["follower_id"], follows["followee_id"]]).drop_duplicates()}
        )
        accounts["is_owner"] = accounts["account_id"] == owner
        labels = []
        for file_name, label in LABEL_FILES.items():
            if tree.exists(folder + file_name):
                listed = read_relationship_file(tree, folder + file_name)
                labels.append(listed.assign(label=label))
                outside = ~listed["handle"].isin(accounts["account_id"])
                notes.append(
                    f"{file_name}: {len(listed):,} accounts labelled {label!r}"
                    + (
                        f" ({int(outside.sum()):,} neither follow nor are followed by the owner: counted, not added)."
                        if outside.any()
                        else "."
                    )
                )
        if labels:
            label_of = pd.concat(labels).drop_duplicates(["handle", "label"]).groupby("handle", sort=False)["label"].agg(";".join)
            accounts["labels"] = accounts["account_id"].map(label_of).astype("string")
        accounts["handle"] = accounts["account_id"]
        coverage = Coverage(
            scope="ego",
            followers_known=followers is not None,
            following_known=following is not None,
            engagement_observed="none",
            notes=notes + ["Instagram exports no account ids: handles are used as ids (a renamed account looks like a new one)."],
        )
        return build_dataset(
            RawTable(follows, tree.origin(folder)),
            None,
            RawTable(accounts, tree.origin(folder)),
            coverage=coverage,
            provenance=tree.provenance("instagram", {"owner": owner}),
            owner_id=owner,
            platform="instagram",
            source=f"Instagram export of {owner}",
        )
