"""Platform settings: read from the environment only, tokens never in a repr."""

from __future__ import annotations

import pytest

from workers.settings import Settings, SettingsError

ENV = {
    "MODSTREAM_DEV_MODE": "true",
    "MODSTREAM_META_PAGE_TOKEN": "EAAG-page-token-secret",
    "MODSTREAM_META_APP_SECRET": "app-secret-value",
    "MODSTREAM_META_VERIFY_TOKEN": "verify-token-value",
    "MODSTREAM_YOUTUBE_TOKEN": "ya29.youtube-secret",
    "MODSTREAM_X_TOKEN": "x-bearer-secret",
    "MODSTREAM_LINKEDIN_TOKEN": "AQX-linkedin-secret",
    "MODSTREAM_WEBHOOK_PORT": "9443",
    "MODSTREAM_POLL_INTERVAL_MS": "1500",
}


def test_tokens_are_read_and_never_shown() -> None:
    settings = Settings.from_env(ENV)
    platforms = settings.platforms
    assert platforms.meta_page_token == "EAAG-page-token-secret"
    assert (platforms.webhook_port, platforms.poll_interval_s) == (9443, 1.5)
    shown = repr(settings)
    for name, value in ENV.items():
        if "TOKEN" in name or "SECRET" in name:
            assert value not in shown, name


def test_defaults_point_at_the_real_platforms() -> None:
    platforms = Settings.from_env({"MODSTREAM_DEV_MODE": "true"}).platforms
    assert platforms.webhook_port == 8090
    assert platforms.meta_graph_url.startswith("https://graph.facebook.com/")
    assert platforms.youtube_api_url == "https://www.googleapis.com/youtube/v3"
    assert platforms.x_api_url == "https://api.x.com"
    assert platforms.linkedin_api_url == "https://api.linkedin.com"


def test_x_block_mode_is_block_or_mute() -> None:
    assert (
        Settings.from_env({**ENV, "MODSTREAM_X_BLOCK_MODE": "MUTE"}).platforms.x_block_mode
        == "mute"
    )
    with pytest.raises(SettingsError, match="MODSTREAM_X_BLOCK_MODE"):
        Settings.from_env({**ENV, "MODSTREAM_X_BLOCK_MODE": "report"})
