"""A small social world served on 127.0.0.1 the way Bluesky and Mastodon publish it, for the collector's tests.

The world is generated from a seed with known truth: who follows whom and when (so follow-back
latencies are known), posts, likes, reposts, quotes, replies and mentions with times. The server
answers the endpoints the collectors use, with the shapes of the published lexicons
(``app.bsky.*``, ``com.atproto.repo.listRecords``, PLC DID documents) and of Mastodon's REST API
(``Link`` pagination, 19-digit ids), and can be told to misbehave on given paths: a 429 with a
reset time, a 500, a truncated JSON page, a dropped connection, an account deleted or hidden.
No test reaches the internet: everything here is served from this process.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Account:
    key: int
    did: str
    handle: str
    masto_id: str
    acct: str


@dataclass
class Post:
    key: int
    author: int
    at: datetime
    reply_to: int | None = None  # key of the parent post
    quote_of: int | None = None
    mentions: tuple[int, ...] = ()
    repost_of: int | None = None  # Mastodon: a boost is a status of its own

    def uri(self, world: "World") -> str:
        return f"at://{world.accounts[self.author].did}/app.bsky.feed.post/3p{self.key:010d}"

    def status_id(self) -> str:
        return str(110_000_000_000_000_000 + self.key)


@dataclass
class World:
    accounts: list[Account]
    follows: list[tuple[int, int, datetime]]
    posts: list[Post]
    likes: list[tuple[int, int, datetime]]  # (actor, post key, time)
    reposts: list[tuple[int, int, datetime]]
    owner: int = 0
    gone: set[int] = field(default_factory=set)  # accounts deleted: their repository / lists answer "gone"
    hidden: set[int] = field(default_factory=set)  # Mastodon accounts that hide their follower and following lists

    def post(self, key: int) -> Post:
        return self.posts[key]


def make_world(seed: int = 7, contacts: int = 30, window_days: int = 90) -> World:
    """Owner (account 0) and ``contacts`` others; the owner's first 20 contacts are followed, contacts 10.. follow back.

    Follow-backs come ``1 + i % 5`` days after the owner's follow of contact ``i`` (known latencies);
    mutual contacts engage with the owner far more than one-way ones (planted association).
    """
    rng = np.random.default_rng(seed)
    n = contacts + 1
    accounts = [Account(i, f"did:plc:acct{i:020d}", f"user{i}.test", str(1_098_765_432_100_000_000 + i), f"user{i}") for i in range(n)]
    start = NOW - timedelta(days=400)
    follows: list[tuple[int, int, datetime]] = []
    for i in range(1, n):
        owner_follows = i <= 20
        follows_owner = i >= 11
        t = start + timedelta(days=float(i * 3))
        if owner_follows:
            follows.append((0, i, t))
        if follows_owner:
            follows.append((i, 0, t + timedelta(days=1 + i % 5) if owner_follows else t))
    for a in range(1, n):
        for b in range(1, n):
            if a != b and rng.random() < 0.15:
                follows.append((a, b, start + timedelta(days=float(rng.uniform(0, 300)))))
    posts: list[Post] = []
    in_window = lambda: NOW - timedelta(days=float(rng.uniform(1, window_days - 5)))
    for author in range(n):
        for _ in range(6 if author == 0 else 3):
            posts.append(Post(len(posts), author, in_window()))
    # One old post of the owner, and old likes, before the window: the collector's window must cut them.
    posts.append(Post(len(posts), 0, NOW - timedelta(days=window_days + 40)))
    following = {(a, b) for a, b, _ in follows}
    likes, reposts = [], []
    originals = list(posts)
    for post in originals:
        for actor in range(n):
            if actor == post.author:
                continue
            mutual = (actor, post.author) in following and (post.author, actor) in following
            linked = (actor, post.author) in following or (post.author, actor) in following
            p = 0.55 if mutual else 0.12 if linked else 0.02
            t = max(post.at, NOW - timedelta(days=window_days - 2)) + timedelta(hours=float(rng.uniform(1, 30)))
            if post.at < NOW - timedelta(days=window_days):
                t = post.at + timedelta(hours=3)
            if rng.random() < p:
                likes.append((actor, post.key, t))
            if rng.random() < p / 3:
                reposts.append((actor, post.key, t + timedelta(hours=1)))
            if rng.random() < p / 3:
                posts.append(Post(len(posts), actor, t + timedelta(hours=2), reply_to=post.key))
            if rng.random() < p / 6:
                posts.append(Post(len(posts), actor, t + timedelta(hours=3), quote_of=post.key))
    for author in range(1, 6):  # mentions of the owner outside replies: only visible in network mode
        posts.append(Post(len(posts), author, in_window(), mentions=(0,)))
    return World(accounts, follows, posts, likes, reposts)


# ---------------------------------------------------------------------------------------------
# The server


class FakeSocialAPI:
    """Serve a :class:`World` on 127.0.0.1; ``faults`` maps a path fragment to a list of misbehaviours to play in order."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.faults: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - the standard library's name
                api.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakeSocialAPI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -----------------------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        with self.lock:
            self.requests.append(request.path)
            fault = None
            for fragment, plays in self.faults.items():
                if fragment in request.path and plays:
                    fault = plays.pop(0)
                    break
        if fault == "429":
            reset = int(datetime.now(timezone.utc).timestamp()) + 2
            return self.send(
                request,
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {
                    "ratelimit-limit": "3000",
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                    "x-ratelimit-reset": iso(datetime.fromtimestamp(reset, timezone.utc)),
                },
            )
        if fault == "500":
            return self.send(request, 500, {"error": "InternalServerError"})
        if fault == "drop":
            request.close_connection = True
            request.connection.shutdown(2)
            return None
        try:
            status, body, headers = self.route(parts.path, query, request.headers)
        except KeyError:
            status, body, headers = 400, {"error": "InvalidRequest", "message": "unknown"}, {}
        if fault == "truncate":
            text = json.dumps(body).encode()
            return self.send_bytes(request, 200, text[: len(text) // 2], {})
        return self.send(request, status, body, headers)

    def send(self, request, status, body, headers=None):
        return self.send_bytes(request, status, json.dumps(body).encode(), headers or {})

    @staticmethod
    def send_bytes(request, status, data: bytes, headers: dict[str, str]):
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    # -----------------------------------------------------------------------------------------
    def route(self, path: str, q: dict[str, str], headers) -> tuple[int, object, dict[str, str]]:
        if path.startswith("/plc/"):
            account = self.by_did(path[len("/plc/") :])
            return (
                200,
                {
                    "@context": ["https://www.w3.org/ns/did/v1"],
                    "id": account.did,
                    "alsoKnownAs": [f"at://{account.handle}"],
                    "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.url + "/pds"}],
                },
                {},
            )
        if path.startswith("/xrpc/") or path.startswith("/pds/xrpc/"):
            return self.xrpc(path.split("/xrpc/")[1], q)
        if path.startswith("/api/v1/"):
            return self.mastodon(path[len("/api/v1/") :], q, headers)
        return 404, {"error": "NotFound"}, {}

    def by_did(self, did: str) -> Account:
        for account in self.world.accounts:
            if did in (account.did, account.handle):
                return account
        raise KeyError(did)

    def by_masto(self, key: str) -> Account:
        for account in self.world.accounts:
            if key in (account.masto_id, account.acct):
                return account
        raise KeyError(key)

    @staticmethod
    def window(items: list, q: dict[str, str], default: int) -> tuple[list, str | None]:
        offset = int(q.get("cursor") or 0)
        limit = int(q.get("limit") or default)
        page = items[offset : offset + limit]
        return page, (str(offset + limit) if offset + limit < len(items) else None)

    def profile(self, key: int) -> dict:
        a = self.world.accounts[key]
        return {
            "did": a.did,
            "handle": a.handle,
            "displayName": f"User {key}",
            "createdAt": "2023-05-01T00:00:00.000Z",
            "indexedAt": "2023-05-01T00:00:00.000Z",
            "labels": [],
        }

    def post_view(self, post: Post) -> dict:
        return {
            "uri": post.uri(self.world),
            "cid": f"bafy{post.key}",
            "author": self.profile(post.author),
            "record": self.post_record(post),
            "indexedAt": iso(post.at),
            "likeCount": 0,
            "repostCount": 0,
        }

    def post_record(self, post: Post) -> dict:
        w = self.world
        record = {"$type": "app.bsky.feed.post", "text": "hello", "createdAt": iso(post.at), "langs": ["en"]}
        if post.reply_to is not None:
            parent = w.post(post.reply_to).uri(w)
            record["reply"] = {"root": {"uri": parent, "cid": "x"}, "parent": {"uri": parent, "cid": "x"}}
        if post.quote_of is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": w.post(post.quote_of).uri(w), "cid": "x"}}
        if post.mentions:
            record["facets"] = [
                {
                    "index": {"byteStart": 0, "byteEnd": 5},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": w.accounts[m].did}],
                }
                for m in post.mentions
            ]
        return record

    def xrpc(self, method: str, q: dict[str, str]):
        w = self.world
        if method == "app.bsky.actor.getProfile":
            a = self.by_did(q["actor"])
            followers = sum(1 for x, y, _ in w.follows if y == a.key)
            return (
                200,
                {
                    **self.profile(a.key),
                    "followersCount": followers,
                    "followsCount": sum(1 for x, _, _ in w.follows if x == a.key),
                    "postsCount": 3,
                },
                {},
            )
        if method in ("app.bsky.graph.getFollowers", "app.bsky.graph.getFollows"):
            a = self.by_did(q["actor"])
            incoming = method.endswith("Followers")
            edges = sorted(((x, y, t) for x, y, t in w.follows if (y if incoming else x) == a.key), key=lambda e: e[2], reverse=True)
            others = [x if incoming else y for x, y, _ in edges if (x if incoming else y) not in w.gone]
            page, cursor = self.window(others, q, 50)
            body = {"subject": self.profile(a.key), ("followers" if incoming else "follows"): [self.profile(k) for k in page]}
            return 200, ({**body, "cursor": cursor} if cursor else body), {"ratelimit-remaining": "2999"}
        if method == "com.atproto.repo.listRecords":
            a = self.by_did(q["repo"])
            if a.key in w.gone:
                return 400, {"error": "RepoDeactivated", "message": f"Repo has been deactivated: {a.did}"}, {}
            records = self.records(a.key, q["collection"])
            records.sort(key=lambda r: r["value"]["createdAt"], reverse=True)
            page, cursor = self.window(records, q, 50)
            return 200, ({"records": page, "cursor": cursor} if cursor else {"records": page}), {}
        if method in ("app.bsky.feed.getLikes", "app.bsky.feed.getRepostedBy", "app.bsky.feed.getQuotes", "app.bsky.feed.getPostThread"):
            key = int(q["uri"].rsplit("/3p", 1)[1])
            post = w.post(key)
            if method == "app.bsky.feed.getLikes":
                items = [{"actor": self.profile(x), "createdAt": iso(t), "indexedAt": iso(t)} for x, k, t in w.likes if k == key]
                page, cursor = self.window(items, q, 50)
                body = {"uri": q["uri"], "likes": page}
            elif method == "app.bsky.feed.getRepostedBy":
                page, cursor = self.window([self.profile(x) for x, k, _ in w.reposts if k == key], q, 50)
                body = {"uri": q["uri"], "repostedBy": page}
            elif method == "app.bsky.feed.getQuotes":
                page, cursor = self.window([self.post_view(p) for p in w.posts if p.quote_of == key], q, 50)
                body = {"uri": q["uri"], "posts": page}
            else:
                replies = [
                    {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.post_view(p), "replies": []}
                    for p in w.posts
                    if p.reply_to == key
                ]
                replies.append({"$type": "app.bsky.feed.defs#notFoundPost", "uri": q["uri"] + "x", "notFound": True})
                return 200, {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.post_view(post), "replies": replies}}, {}
            return 200, ({**body, "cursor": cursor} if cursor else body), {}
        raise KeyError(method)

    def records(self, key: int, collection: str) -> list[dict]:
        w = self.world
        did = w.accounts[key].did
        out = []
        if collection == "app.bsky.graph.follow":
            for x, y, t in w.follows:
                if x == key:
                    out.append(
                        {
                            "uri": f"at://{did}/app.bsky.graph.follow/3f{y:08d}",
                            "cid": "c",
                            "value": {"$type": collection, "subject": w.accounts[y].did, "createdAt": iso(t)},
                        }
                    )
        elif collection in ("app.bsky.feed.like", "app.bsky.feed.repost"):
            acts = w.likes if collection.endswith("like") else w.reposts
            for number, (x, k, t) in enumerate(acts):
                if x == key:
                    p = w.post(k)
                    out.append(
                        {
                            "uri": f"at://{did}/{collection}/3l{number:08d}",
                            "cid": "c",
                            "value": {"$type": collection, "subject": {"uri": p.uri(w), "cid": "x"}, "createdAt": iso(t)},
                        }
                    )
        elif collection == "app.bsky.feed.post":
            for p in w.posts:
                if p.author == key:
                    out.append({"uri": p.uri(w), "cid": "c", "value": self.post_record(p)})
        return out

    # -----------------------------------------------------------------------------------------
    def masto_account(self, key: int) -> dict:
        a = self.world.accounts[key]
        return {
            "id": a.masto_id,
            "username": a.acct,
            "acct": a.acct,
            "display_name": f"User {key}",
            "url": f"https://x.test/@{a.acct}",
            "created_at": "2023-05-01T00:00:00.000Z",
            "followers_count": sum(1 for _, y, _ in self.world.follows if y == key),
            "following_count": sum(1 for x, _, _ in self.world.follows if x == key),
            "statuses_count": 3,
        }

    def status(self, post: Post) -> dict:
        w = self.world
        parent = w.post(post.reply_to) if post.reply_to is not None else None
        mentioned = list(post.mentions) + ([parent.author] if parent else [])
        return {
            "id": post.status_id(),
            "created_at": iso(post.at),
            "account": self.masto_account(post.author),
            "in_reply_to_id": parent.status_id() if parent else None,
            "in_reply_to_account_id": w.accounts[parent.author].masto_id if parent else None,
            "reblog": None,
            "content": "<p>hello</p>",
            "visibility": "public",
            "mentions": [
                {"id": w.accounts[m].masto_id, "username": w.accounts[m].acct, "acct": w.accounts[m].acct, "url": "https://x.test"}
                for m in dict.fromkeys(mentioned)
            ],
        }

    def link_page(self, items: list, q: dict[str, str], path: str, default: int) -> tuple[int, list, dict[str, str]]:
        """Mastodon pagination: ``max_id`` is the position here; the next page is in the Link header."""
        offset = int(q.get("max_id") or 0)
        limit = int(q.get("limit") or default)
        page = items[offset : offset + limit]
        headers = {"x-ratelimit-limit": "300", "x-ratelimit-remaining": "299", "x-ratelimit-reset": iso(NOW + timedelta(minutes=5))}
        if offset + limit < len(items):
            headers["Link"] = (
                f'<{self.url}/api/v1/{path}?limit={limit}&max_id={offset + limit}>; rel="next", '
                f'<{self.url}/api/v1/{path}?limit={limit}&min_id=0>; rel="prev"'
            )
        return 200, page, headers

    def mastodon(self, path: str, q: dict[str, str], headers) -> tuple[int, object, dict[str, str]]:
        w = self.world
        parts = path.split("/")
        if path == "accounts/lookup":
            return 200, self.masto_account(self.by_masto(q["acct"]).key), {}
        if path == "favourites":
            if not (headers.get("Authorization") or "").startswith("Bearer "):
                return 401, {"error": "The access token is invalid"}, {}
            liked = [w.post(k) for x, k, _ in sorted(w.likes, key=lambda e: e[2], reverse=True) if x == w.owner]
            return self.link_page([self.status(p) for p in liked], q, path, 40)
        if parts[0] == "accounts":
            a = self.by_masto(parts[1])
            if a.key in w.gone:
                return 404, {"error": "Record not found"}, {}
            if parts[2] in ("followers", "following"):
                incoming = parts[2] == "followers"
                edges = sorted(((x, y, t) for x, y, t in w.follows if (y if incoming else x) == a.key), key=lambda e: e[2], reverse=True)
                others = [self.masto_account(x if incoming else y) for x, y, _ in edges]
                return self.link_page([] if a.key in w.hidden else others, q, path, 40)
            if parts[2] == "statuses":
                own = [(p.at, self.status(p)) for p in w.posts if p.author == a.key]
                for number, (x, k, t) in enumerate(w.reposts):
                    if x == a.key:
                        boost = {
                            **self.status(w.post(k)),
                            "id": str(120_000_000_000_000_000 + number),
                            "created_at": iso(t),
                            "account": self.masto_account(a.key),
                            "mentions": [],
                        }
                        boost["reblog"] = self.status(w.post(k))
                        own.append((t, boost))
                own.sort(key=lambda e: e[0], reverse=True)
                return self.link_page([s for _, s in own], q, path, 20)
        if parts[0] == "statuses":
            key = int(parts[1]) - 110_000_000_000_000_000
            if parts[2] == "favourited_by":
                return self.link_page([self.masto_account(x) for x, k, _ in w.likes if k == key], q, path, 40)
            if parts[2] == "reblogged_by":
                return self.link_page([self.masto_account(x) for x, k, _ in w.reposts if k == key], q, path, 40)
            if parts[2] == "context":
                return 200, {"ancestors": [], "descendants": [self.status(p) for p in w.posts if p.reply_to == key]}, {}
        raise KeyError(path)
