"""What an effector is: an action kind and the real ids it is about -> the platform's request.

The executor resolves the pseudonymous author key and the comment id into a ``Target``
through the encrypted identity map (``workers.identity_vault``) and hands it here; the ids in
it never go into a return value, an error message or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.platforms.errors import Unsupported
from streams.platforms.http import ApiClient

# Action kinds that speak to the author: a public reply under their comment.
REPLY_KINDS = frozenset(
    {"reply_ask_removal", "notice_of_block", "redirect_personal_care", "emergency_signpost"}
)
# Action kinds a platform acts on; the rest (evidence, referrals, review, limits) are the
# board's own work and never reach a platform.
PLATFORM_KINDS = REPLY_KINDS | {"hide_post", "delete_post", "block_account"}


@dataclass(frozen=True, slots=True)
class Target:
    """The real ids behind an action, as the connector saw them."""

    platform: str
    account_id: str = field(repr=False)  # the author's platform id ("" if unknown)
    comment_id: str = field(repr=False)  # the platform's native comment id ("" for accounts)
    post_id: str = field(repr=False)  # the post / video / tweet the comment replies to
    thread_id: str = field(default="", repr=False)  # its top-level comment, if it is a reply


class Effector:
    """Carries out one action kind on one platform. Subclasses implement what the platform
    offers; anything else is ``Unsupported`` and goes to a person."""

    platform = ""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    async def perform(self, kind: str, target: Target, message: str) -> str:
        if kind in REPLY_KINDS:
            if not message:
                raise Unsupported(f"{kind} without a message: nothing to post")
            return await self.reply(target, message)
        if kind == "hide_post":
            return await self.hide(target)
        if kind == "delete_post":
            return await self.delete(target)
        if kind == "block_account":
            return await self.block(target)
        raise Unsupported(f"{kind} is not a platform action")

    async def reply(self, target: Target, message: str) -> str:
        raise Unsupported(f"{self.platform} has no API to reply")

    async def hide(self, target: Target) -> str:
        raise Unsupported(f"{self.platform} has no API to hide a comment")

    async def delete(self, target: Target) -> str:
        raise Unsupported(f"{self.platform} has no API to delete a comment")

    async def block(self, target: Target) -> str:
        raise Unsupported(f"{self.platform} has no API to block an account")


def need(value: str, what: str) -> str:
    """An id the request cannot go without; missing means the identity map lacks it."""
    if not value:
        raise Unsupported(f"no {what} known for this action: a person must act")
    return value
