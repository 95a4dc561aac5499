"""Engagement read from tweets, shared by the X archive, the classic archive and twarc tables.

One set of rules for every tweet source, so the same tweet counts the same way everywhere:

- a **reply** goes to ``in_reply_to_user_id`` (self-replies, threads, are removed and counted
  by validation);
- a **repost** (retweet) goes to the retweeted account: a field when the source has one, else
  the ``RT @handle`` the text starts with; the other mentions inside a retweet belong to the
  original tweet, not to the account that retweeted it, and are skipped (counted);
- a **mention** goes to every account tagged in a tweet that is not a retweet, except the
  account it replies to (that ``@`` is part of the reply, not a second act; counted);
- a **quote** goes to the author of the quoted tweet: a field when present, else a link
  ``twitter.com/<handle>/status/<id>`` (or ``x.com``) whose handle resolves to an account.

Handles are resolved to account ids from evidence inside the same input (mention entities,
reply fields, account files) through a :class:`HandleBook`; what cannot be resolved is
counted and left out, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

STATUS_LINK = r"(?:https?://)?(?:www\.|mobile\.)?(?:twitter|x)\.com/(?P<handle>[A-Za-z0-9_]{1,15})/status(?:es)?/(?P<status>\d+)"
RETWEET_PREFIX = r"^RT @(?P<handle>[A-Za-z0-9_]{1,15})"
TEXT_MENTION = r"(?<![A-Za-z0-9_@])@(?P<handle>[A-Za-z0-9_]{1,15})"
# Paths of twitter.com that look like handles but are not accounts.
NOT_HANDLES = {"i", "intent", "home", "search", "hashtag", "share", "settings"}


def _text(values) -> pd.Series:
    return pd.Series(values, dtype="string")


@dataclass
class HandleBook:
    """Evidence pairing account ids with handles, from anywhere in one input."""

    evidence: list[pd.DataFrame] = field(default_factory=list)

    def add(self, account_ids: pd.Series, handles: pd.Series, seen_at: pd.Series | None = None) -> None:
        frame = pd.DataFrame(
            {
                "account_id": _text(account_ids).reset_index(drop=True),
                "handle": _text(handles).reset_index(drop=True),
                "seen_at": (
                    pd.Series(pd.NaT, index=range(len(account_ids)), dtype="datetime64[us, UTC]")
                    if seen_at is None
                    else pd.to_datetime(pd.Series(seen_at), utc=True).reset_index(drop=True)
                ),
            }
        )
        self.evidence.append(frame.dropna(subset=["account_id", "handle"]))

    def _all(self) -> pd.DataFrame:
        if not self.evidence:
            return pd.DataFrame({"account_id": _text([]), "handle": _text([]), "seen_at": pd.Series(dtype="datetime64[us, UTC]")})
        frame = pd.concat(self.evidence, ignore_index=True)
        frame["handle"] = frame["handle"].str.lstrip("@")
        return frame[frame["handle"] != ""]

    def handle_of(self) -> pd.Series:
        """account_id -> the most recently seen handle (accounts rename themselves)."""
        frame = self._all().sort_values("seen_at", kind="stable", na_position="first")
        return frame.drop_duplicates("account_id", keep="last").set_index("account_id")["handle"]

    def id_of(self, handles: pd.Series) -> pd.Series:
        """handle -> account id (case-insensitive); a handle seen with two ids stays unresolved."""
        frame = self._all()
        frame = frame.assign(key=frame["handle"].str.lower()).drop_duplicates(["key", "account_id"])
        unique = frame.drop_duplicates("key", keep=False).set_index("key")["account_id"]
        return _text(handles).str.lstrip("@").str.lower().map(unique).astype("string")


@dataclass
class TweetEngagement:
    interactions: pd.DataFrame
    stats: dict[str, int]

    def notes(self, origin: str) -> list[str]:
        s = self.stats
        notes = []
        if s.get("mentions_unresolved"):
            notes.append(f"{origin}: {s['mentions_unresolved']:,} mentions name a handle whose account id is not in the input (left out).")
        if s.get("reposts_unresolved"):
            notes.append(f"{origin}: {s['reposts_unresolved']:,} retweets whose author could not be identified (left out).")
        if s.get("quotes_unresolved"):
            notes.append(
                f"{origin}: {s['quotes_unresolved']:,} links to other accounts' tweets name a handle not resolvable to an id (left out)."
            )
        if s.get("mentions_in_reposts"):
            notes.append(
                f"{origin}: {s['mentions_in_reposts']:,} mentions inside retweets belong to the retweeted tweet and were not counted."
            )
        if s.get("reply_mentions"):
            notes.append(
                f"{origin}: {s['reply_mentions']:,} mentions of the account replied to are part of the reply and were not counted again."
            )
        return notes


def tweet_engagement(
    tweets: pd.DataFrame, mentions: pd.DataFrame, links: pd.DataFrame, handles: HandleBook, source: str
) -> TweetEngagement:
    """Interactions from tweets (one row per act, ``count`` 1).

    ``tweets``: ``tweet_id``, ``actor_id``, ``at``, ``text``, ``reply_to_id``, and optionally
    ``repost_of_id`` / ``repost_of_handle`` (the retweeted author), ``quote_of_id``.
    ``mentions``: ``tweet_id``, ``target_id`` (may be missing), ``handle``, in tweet order.
    ``links``: ``tweet_id``, ``url`` (expanded links, for quotes).
    """
    tweets = tweets.copy()
    for column in ("reply_to_id", "repost_of_id", "repost_of_handle", "quote_of_id"):
        if column not in tweets:
            tweets[column] = pd.Series(pd.NA, index=tweets.index, dtype="string")
    text = tweets["text"].fillna("")
    repost_handle = tweets["repost_of_handle"].fillna(text.str.extract(RETWEET_PREFIX)["handle"])
    is_repost = tweets["repost_of_id"].notna() | text.str.match(RETWEET_PREFIX)
    stats: dict[str, int] = {}

    mentions = mentions.merge(tweets[["tweet_id", "reply_to_id"]].assign(is_repost=is_repost.values), on="tweet_id", how="inner")
    if "target_id" not in mentions:
        mentions["target_id"] = pd.Series(pd.NA, index=mentions.index, dtype="string")
    mentions["target_id"] = mentions["target_id"].astype("string").fillna(handles.id_of(mentions["handle"]))

    # Retweets: the author from a field, else the RT @handle resolved, else the first tagged account.
    first_tagged = mentions[mentions["is_repost"]].drop_duplicates("tweet_id").set_index("tweet_id")["target_id"]
    repost_target = (
        tweets["repost_of_id"]
        .astype("string")
        .fillna(handles.id_of(repost_handle))
        .fillna(tweets["tweet_id"].map(first_tagged).astype("string"))
    )
    stats["reposts_unresolved"] = int((is_repost & repost_target.isna()).sum())
    stats["mentions_in_reposts"] = int(mentions["is_repost"].sum())

    kept = mentions[~mentions["is_repost"]]
    # Comparisons with a missing id give NA, which must read as "not the reply target".
    reply_mention = (kept["target_id"] == kept["reply_to_id"]).fillna(False).astype(bool)
    stats["reply_mentions"] = int(reply_mention.sum())
    kept = kept[~reply_mention]
    stats["mentions_unresolved"] = int(kept["target_id"].isna().sum())
    kept = kept.dropna(subset=["target_id"]).drop_duplicates(["tweet_id", "target_id"])

    quote_ids = tweets[["tweet_id", "quote_of_id", "reply_to_id"]].assign(is_repost=is_repost.values)
    linked = links.merge(quote_ids, on="tweet_id", how="inner")
    found = linked["url"].astype("string").str.extract(STATUS_LINK)
    linked = linked.assign(handle=found["handle"]).dropna(subset=["handle"])
    linked = linked[~linked["is_repost"] & linked["quote_of_id"].isna() & ~linked["handle"].str.lower().isin(NOT_HANDLES)]
    linked = linked.assign(target_id=handles.id_of(linked["handle"]).values)
    stats["quotes_unresolved"] = int(linked["target_id"].isna().sum())
    linked = linked.dropna(subset=["target_id"])
    # A link to a tweet of the account replied to is part of the thread, not a quote.
    linked = linked[linked["target_id"] != linked["reply_to_id"].fillna("")]

    def acts_of(mask: pd.Series, target: pd.Series, kind: str) -> pd.DataFrame:
        # Both columns masked alike, so they share one index even when nothing is selected.
        mask = mask.fillna(False).astype(bool)
        return pd.DataFrame({"tweet_id": tweets["tweet_id"][mask], "target_id": target[mask], "kind": kind})

    quotes = pd.concat(
        [
            acts_of(tweets["quote_of_id"].notna(), tweets["quote_of_id"], "quote"),
            linked[["tweet_id", "target_id"]].assign(kind="quote"),
        ]
    ).drop_duplicates()

    acts = pd.concat(
        [
            acts_of(tweets["reply_to_id"].notna() & ~is_repost, tweets["reply_to_id"], "reply"),
            acts_of(is_repost & repost_target.notna(), repost_target, "repost"),
            kept[["tweet_id", "target_id"]].assign(kind="mention"),
            quotes,
        ],
        ignore_index=True,
    )
    acts = acts.merge(tweets[["tweet_id", "actor_id", "at"]], on="tweet_id", how="left")
    interactions = pd.DataFrame(
        {
            "actor_id": acts["actor_id"].astype("string"),
            "target_id": acts["target_id"].astype("string"),
            "kind": acts["kind"].astype("string"),
            "at": acts["at"],
            "count": 1,
            "source": source,
        }
    )
    return TweetEngagement(interactions, stats)
