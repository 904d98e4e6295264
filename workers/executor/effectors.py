"""The executor's platform adapter: the effector chosen by ``action.platform``, acting on the
real ids the identity map resolves for it.

A platform without credentials has no effector: its actions fail as permanent (a person acts
by hand) rather than pretend. Action kinds no platform carries out (evidence is the
executor's own; referrals, review and posting limits are people's work) are recorded, as the
dry-run adapter records everything, and say so in their result.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from schemas.action import Action
from streams.platforms import graph
from streams.platforms import x as x_platform
from streams.platforms import youtube as youtube_platform
from streams.platforms.effecting import PLATFORM_KINDS, Effector
from streams.platforms.errors import Unsupported
from streams.platforms.facebook import FacebookEffector
from streams.platforms.http import ApiClient
from streams.platforms.instagram import InstagramEffector
from streams.platforms.linkedin import LinkedinEffector
from workers.executor.platform_adapters import DRY_RUN_RECORD, DryRunAdapter
from workers.identity_vault import IdentityVault
from workers.settings import PlatformSettings, Settings

PEOPLE_RECORD = "executor-for-people.jsonl"


def build_effectors(
    config: PlatformSettings, session: aiohttp.ClientSession
) -> dict[str, Effector]:
    """One effector per platform whose credentials are set."""
    effectors: dict[str, Effector] = {}
    if config.meta_page_token:
        graph_api = ApiClient(
            session, config.meta_graph_url, "meta", config.meta_page_token, graph.classify
        )
        if config.meta_page_id:
            effectors["facebook"] = FacebookEffector(graph_api, page_id=config.meta_page_id)
        if config.meta_ig_user_id:
            effectors["instagram"] = InstagramEffector(graph_api)
    if config.youtube_token:
        api = ApiClient(
            session,
            config.youtube_api_url,
            "youtube",
            config.youtube_token,
            youtube_platform.classify,
        )
        effectors["youtube"] = youtube_platform.YoutubeEffector(api)
    if config.x_token and config.x_user_id:
        api = ApiClient(session, config.x_api_url, "x", config.x_token, x_platform.classify)
        effectors["x"] = x_platform.XEffector(
            api, user_id=config.x_user_id, block_mode=config.x_block_mode
        )
    if config.linkedin_token and config.linkedin_org_urn:
        api = ApiClient(
            session,
            config.linkedin_api_url,
            "linkedin",
            config.linkedin_token,
            extra_headers=linkedin_headers(config),
        )
        effectors["linkedin"] = LinkedinEffector(api, org_urn=config.linkedin_org_urn)
    return effectors


def linkedin_headers(config: PlatformSettings) -> dict[str, str]:
    return {"LinkedIn-Version": config.linkedin_version, "X-Restli-Protocol-Version": "2.0.0"}


class PlatformEffectors:
    """``PlatformAdapter`` for the executor: routes each action to its platform's effector."""

    name = "platforms"

    def __init__(self, settings: Settings, *, vault: IdentityVault | None = None) -> None:
        self._settings = settings
        self._vault = vault
        self._session: aiohttp.ClientSession | None = None
        self._effectors: dict[str, Effector] = {}
        self._people = DryRunAdapter(Path(settings.data_dir) / PEOPLE_RECORD, echo=False)

    async def perform(self, action: Action) -> str:
        if action.kind not in PLATFORM_KINDS:
            await self._people.perform(action)
            return "recorded for people: no platform call for this kind"
        effector = self._effector(action.platform)
        target = await self._resolver().resolve(
            platform=action.platform,
            author_key=action.target_author,
            comment_id=action.target_comment,
            who="executor",
            purpose=f"{action.kind} action {action.action_id}",
        )
        return await effector.perform(action.kind, target, action.message)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._vault is not None:
            await self._vault.close()

    def _effector(self, platform: str) -> Effector:
        if self._session is None:
            # Made on first use: an aiohttp session binds to the running loop.
            self._session = aiohttp.ClientSession()
            self._effectors = build_effectors(self._settings.platforms, self._session)
        effector = self._effectors.get(platform)
        if effector is None:
            raise Unsupported(f"no credentials for {platform}: a person must act by hand")
        return effector

    def _resolver(self) -> IdentityVault:
        if self._vault is None:
            self._vault = IdentityVault.from_settings(self._settings)
        return self._vault


__all__ = ["DRY_RUN_RECORD", "PlatformEffectors", "build_effectors"]
