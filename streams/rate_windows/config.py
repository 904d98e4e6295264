"""Rate-window settings: window sizes, thresholds per behaviour, lateness and bounds.

Built once per policy version from the policy file's ``rate_windows:`` section. Every check
happens here, so ``observe`` can trust its config and never fail half-way through an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Verdict clauses that make a post count towards "frequent ... inflammatory, misleading,
# controversial or which may cause distress" in the policy.
DEFAULT_INFLAMMATORY_CLAUSES = frozenset(
    {
        "abusive",
        "intimidation",
        "naming_to_harass",
        "hate",
        "obscene",
        "discriminatory",
        "misleading",
        "trolling",
        "obstructing_staff",
        "allegation",
    }
)

_TOP_KEYS = frozenset(
    {
        "windows",
        "buckets_per_window",
        "allowed_lateness_s",
        "near_duplicate_max_distance",
        "spamming_min_tokens",
        "max_recent_posts",
        "max_evidence",
        "redelivery_memo_posts",
        "inflammatory_clauses",
        "cross_author",
    }
)
_WINDOW_KEYS = frozenset({"size_s", "flooding", "spamming", "inflammatory"})
_CROSS_KEYS = frozenset({"window_s", "min_authors", "min_tokens", "bands", "max_posts_per_band"})


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """One window size and the count at which each behaviour trips in it (None: not checked)."""

    size_s: int
    flooding: int | None = None  # posts
    spamming: int | None = None  # near-identical posts, this one included
    inflammatory: int | None = None  # posts with an inflammatory verdict


@dataclass(frozen=True, slots=True)
class CrossAuthorConfig:
    window_s: int = 600  # near-copies count when posted within this long of each other
    min_authors: int = 5  # distinct authors that make a campaign
    min_tokens: int = 6  # shorter texts ("thank you", "well done all") are not indexed at all
    # Fingerprint slices, one index key each. Copies less than ``bands`` bits apart always
    # share a key; 8 slices of 8 bits also catch most edited copies (6-10 bits apart) but put
    # 1/256 of all texts on a key: see docs/rate_windows.md before raising traffic.
    bands: int = 8
    max_posts_per_band: int = 256  # newest kept per band key: bounds a hot key's state


DEFAULT_WINDOWS = (
    WindowSpec(600, flooding=15, spamming=3),
    WindowSpec(3600, flooding=40, spamming=5, inflammatory=3),
    WindowSpec(86_400, flooding=120, inflammatory=5),
)


@dataclass(frozen=True, slots=True)
class WindowConfig:
    windows: tuple[WindowSpec, ...] = DEFAULT_WINDOWS  # ascending size_s
    buckets_per_window: int = 10  # a window is this many tumbling sub-buckets
    allowed_lateness_s: int = 300
    near_duplicate_max_distance: int = 10  # SimHash bits: see docs/rate_windows.md for the choice
    spamming_min_tokens: int = 3  # one- and two-word replies are not "the same message"
    max_recent_posts: int = 32  # per author, for spam comparison and evidence
    max_evidence: int = 10  # comment ids carried by one finding
    # Per author, the findings given to this many latest posts are kept, so a post delivered
    # again after a crash gets the very same findings back: enough to cover every post still
    # uncommitted when a worker dies (the app commits every second), even in a flood.
    redelivery_memo_posts: int = 64
    inflammatory_clauses: frozenset[str] = DEFAULT_INFLAMMATORY_CLAUSES
    cross_author: CrossAuthorConfig = field(default_factory=CrossAuthorConfig)

    @property
    def allowed_lateness_ms(self) -> int:
        return self.allowed_lateness_s * 1000

    # Each window with its bucket length in ms: derived once, read on every event.
    bucket_sizes: tuple[tuple[WindowSpec, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sizes = tuple((w, w.size_s * 1000 // self.buckets_per_window) for w in self.windows)
        object.__setattr__(self, "bucket_sizes", sizes)


_DEFAULTS = WindowConfig()


def from_dict(section: Mapping[str, Any]) -> WindowConfig:
    """Build the config from the policy's ``rate_windows`` section; missing keys keep defaults.

    Raises ValueError naming the field and what it must be; a worker that meets it keeps the
    policy version it had.
    """
    where = "rate_windows"
    _no_unknown_keys(section, _TOP_KEYS, where)
    top = _Reader(section, where, _DEFAULTS)
    buckets = top.int("buckets_per_window", minimum=1)
    max_recent = top.int("max_recent_posts", minimum=1)
    raw_windows = section.get("windows")
    windows = (
        _DEFAULTS.windows
        if raw_windows is None
        else _windows(_sequence(raw_windows, f"{where}.windows"))
    )
    _check_windows(windows, buckets, max_recent)
    return WindowConfig(
        windows=windows,
        buckets_per_window=buckets,
        allowed_lateness_s=top.int("allowed_lateness_s", minimum=0),
        # Past about 24 bits unrelated texts start to match (they sit about 32 apart).
        near_duplicate_max_distance=top.int("near_duplicate_max_distance", minimum=0, maximum=24),
        spamming_min_tokens=top.int("spamming_min_tokens", minimum=1),
        max_recent_posts=max_recent,
        max_evidence=top.int("max_evidence", minimum=1),
        redelivery_memo_posts=top.int("redelivery_memo_posts", minimum=1),
        inflammatory_clauses=_clauses(section),
        cross_author=_cross_author(section.get("cross_author", {})),
    )


def _windows(raw: tuple[Any, ...]) -> tuple[WindowSpec, ...]:
    if not raw:
        raise ValueError("rate_windows.windows is empty: list at least one window")
    specs = []
    for index, item in enumerate(raw):
        where = f"rate_windows.windows[{index}]"
        _no_unknown_keys(item, _WINDOW_KEYS, where)
        if "size_s" not in item:
            raise ValueError(f"{where}.size_s is missing: give the window length in seconds")
        specs.append(
            WindowSpec(
                size_s=_int(item["size_s"], f"{where}.size_s", minimum=1),
                flooding=_threshold(item, "flooding", where),
                spamming=_threshold(item, "spamming", where),
                inflammatory=_threshold(item, "inflammatory", where),
            )
        )
    sizes = [s.size_s for s in specs]
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"rate_windows.windows: size_s values {sizes} must be distinct")
    return tuple(sorted(specs, key=lambda s: s.size_s))


def _check_windows(windows: tuple[WindowSpec, ...], buckets: int, max_recent: int) -> None:
    for spec in windows:
        where = f"rate_windows.windows (size_s {spec.size_s})"
        if spec.size_s * 1000 % buckets:
            raise ValueError(
                f"{where} does not split into {buckets} whole-millisecond buckets: "
                "pick a size or a buckets_per_window that divides it"
            )
        if spec.spamming is not None and spec.spamming > max_recent:
            # Spam is counted over the recent-post list, so a higher threshold could never trip.
            raise ValueError(
                f"{where}: spamming = {spec.spamming} exceeds max_recent_posts = {max_recent}: "
                "raise max_recent_posts or lower the threshold"
            )


def _cross_author(raw: Any) -> CrossAuthorConfig:
    where = "rate_windows.cross_author"
    _no_unknown_keys(raw, _CROSS_KEYS, where)
    read = _Reader(raw, where, _DEFAULTS.cross_author)
    cross = CrossAuthorConfig(
        window_s=read.int("window_s", minimum=1),
        min_authors=read.int("min_authors", minimum=2),
        min_tokens=read.int("min_tokens", minimum=1),
        # At most 16 slices: narrower keys would put unrelated texts in one band.
        bands=read.int("bands", minimum=1, maximum=16),
        max_posts_per_band=read.int("max_posts_per_band", minimum=2),
    )
    if cross.min_authors > cross.max_posts_per_band:
        raise ValueError(
            f"{where}: min_authors = {cross.min_authors} exceeds max_posts_per_band = "
            f"{cross.max_posts_per_band}, so a campaign could never be seen: lower one or "
            "raise the other"
        )
    return cross


def _clauses(section: Mapping[str, Any]) -> frozenset[str]:
    raw = section.get("inflammatory_clauses")
    if raw is None:
        return _DEFAULTS.inflammatory_clauses
    values = _sequence(raw, "rate_windows.inflammatory_clauses")
    for v in values:
        if not isinstance(v, str) or not v:
            raise ValueError(f"rate_windows.inflammatory_clauses: {v!r} must be a clause id")
    return frozenset(values)


def _no_unknown_keys(section: Any, known: frozenset[str], where: str) -> None:
    if not isinstance(section, Mapping):
        raise ValueError(f"{where} must be a mapping, got {type(section).__name__}")
    unknown = sorted(str(k) for k in section if k not in known)
    if unknown:
        # A misspelt key would otherwise silently fall back to its default.
        raise ValueError(f"{where}: unknown keys {unknown}; known keys are {sorted(known)}")


class _Reader:
    """Reads one section's whole-number fields, defaulting to the dataclass's own defaults."""

    def __init__(self, section: Mapping[str, Any], where: str, defaults: object) -> None:
        self._section = section
        self._where = where
        self._defaults = defaults

    def int(self, key: str, *, minimum: int, maximum: int | None = None) -> int:
        value = self._section.get(key, getattr(self._defaults, key))
        return _int(value, f"{self._where}.{key}", minimum=minimum, maximum=maximum)


def _int(value: Any, where: str, *, minimum: int, maximum: int | None = None) -> int:
    # bool is an int subclass; "true" seconds is a typo, not 1.
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    if not ok or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"≥ {minimum}"
        raise ValueError(f"{where} must be a whole number {bound}, got {value!r}")
    return int(value)


def _threshold(section: Mapping[str, Any], key: str, where: str) -> int | None:
    # Absent or null: this behaviour is not checked in this window.
    value = section.get(key)
    return None if value is None else _int(value, f"{where}.{key}", minimum=1)


def _sequence(value: Any, where: str) -> tuple[Any, ...]:
    # The policy loader freezes YAML lists into tuples; plain lists come from tests and tools.
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"{where} must be a list, got {type(value).__name__}")
    return tuple(value)
