"""A seeded synthetic population for measuring linking: who the puppets are is known.

Ordinary accounts carry the coincidences that fool a naive linker: common names ("Sarah
Jones" is everywhere in the valleys), handles alike by chance ("dave_smith", "davesmith1"),
replies to the same popular post seconds apart, shared guest wifi, households sharing one
tablet, and campaigns in which dozens of people paste the same petition text. None of those
are the same person.

Puppet rings of 2 to 6 accounts are run by one operator each. Each ring shows a random
non-empty subset of behaviours (each behaviour in with probability one half):

- ``shared_device``: the members post from the operator's device, and the platform says so;
- ``similar_names``: one persona's handle stem with different digits, or one display name;
- ``co_timing``: the operator replies to one post from several accounts seconds apart;
- ``copy_paste``: the members post near-copies of one message within minutes;
- ``own_voice``: the operator does not disguise their writing style across accounts.

The same seed gives the same comments, byte for byte. Everything is derived from a
``random.Random(seed)``; no clock is read.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from itertools import combinations

from schemas.comment import Comment
from schemas.identity import ordered_pair

BEHAVIOURS = ("shared_device", "similar_names", "co_timing", "copy_paste", "own_voice")
START_MS = 1_772_409_600_000  # 2026-03-02 00:00 UTC, a Monday
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

_PLATFORMS = (("x", 0.5), ("facebook", 0.3), ("instagram", 0.2))
_HANDLED = frozenset({"x", "instagram"})  # platforms with @handles

# Welsh-valleys-heavy, so common full names collide as they do on a health board's pages.
_FIRST = (
    "Sarah", "David", "John", "Emma", "Rhys", "Sian", "Gareth", "Carys", "Dylan", "Ceri",
    "Lisa", "Mark", "Claire", "Gavin", "Nia", "Owain", "Rachel", "Paul", "Helen", "Steve",
    "Megan", "Jamie", "Kelly", "Dai", "Bethan", "Lowri", "Huw", "Kerry", "Leanne", "Wayne",
    "Angharad", "Iwan", "Ffion", "Tomos", "Cerys", "Aled", "Elin", "Gethin", "Hannah", "Chris",
    "Julie", "Anne", "Karen", "Ian", "Alun", "Mair", "Dafydd", "Eleri", "Rob", "Jo",
)  # fmt: skip
_LAST = (
    "Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Lewis", "Hughes", "Morgan",
    "Griffiths", "Edwards", "Price", "Rees", "Jenkins", "Powell", "Phillips", "James", "Owen",
    "Lloyd", "Morris", "Watkins", "Pritchard", "Bevan", "Harries", "Llewellyn", "Parry",
    "Howells", "Prosser", "Meredith", "Bowen", "Vaughan", "Richards", "Pugh", "Gwynne",
    "Probert", "Matthews", "Cadwaladr", "Wyn", "Tudor", "Beynon",
)  # fmt: skip
_HANDLE_WORDS = (
    "valley", "rhondda", "taff", "cynon", "merthyr", "bridgend", "dragon", "rugby", "mam",
    "bampi", "nurse", "carer", "runner", "baker", "chef", "gamer", "angler", "cyclist",
)  # fmt: skip
# A ring's persona is one word from each list: "rhondda_truth", "valleys_watch".
_PERSONA_FIRST = (
    "nhs", "valley", "valleys", "rhondda", "cynon", "taff", "merthyr", "real", "angry", "honest",
    "local", "welsh", "cymru", "patient", "health", "ward", "hospital", "waiting", "true", "wake",
)  # fmt: skip
_PERSONA_SECOND = (
    "truth", "voice", "watch", "facts", "patriot", "mam", "taxpayer", "whistle", "story",
    "speaks", "eyes", "insider", "questions", "matters", "first", "uncovered", "exposed",
    "justice", "alert", "news",
)  # fmt: skip
_PLACES = (
    "the Royal Glamorgan", "Prince Charles Hospital", "Princess of Wales", "Keir Hardie",
    "Ysbyty Cwm Rhondda", "Ysbyty Cwm Cynon", "the Merthyr health centre", "Dewi Sant",
    "the Pontypridd clinic", "the Bridgend walk-in centre", "the Tonypandy surgery",
)  # fmt: skip
_PEOPLE = (
    "my mum", "my dad", "my nan", "my grandad", "my son", "my daughter", "my husband",
    "my wife", "my neighbour", "my brother", "my sister", "my best friend", "my auntie",
)  # fmt: skip
_SERVICES = (
    "A&E", "the minor injuries unit", "the maternity unit", "physio", "the blood test clinic",
    "the children's ward", "the GP out of hours line", "the mental health team", "radiology",
    "the eye clinic", "the vaccination centre", "the stroke unit", "district nursing",
)  # fmt: skip
_WAITS = ("two hours", "six hours", "eleven hours", "three days", "six weeks", "two years")
_TEMPLATES = (
    "Thank you to the staff at {place} for looking after {person} this week",
    "{person} waited {wait} at {service} and nobody told us what was happening",
    "Does anyone know if {service} at {place} is open on Saturday mornings",
    "Why does it take {wait} to get seen at {service} these days",
    "The car parking at {place} is a disgrace, {person} drove round for an hour",
    "Brilliant care from {service} at {place}, could not fault them at all",
    "How do I complain about how {person} was treated at {service}",
    "Is {service} moving from {place}? Nobody has told the patients anything",
    "The phone line for {service} has been engaged all morning, is there another number",
    "{person} had a fall and the ambulance took {wait} to reach {place}",
    "Good to see money going into {service} at last, it has been a long time coming",
    "Who decided to close {service} at {place} without asking anyone who uses it",
    "Shout out to the nurses on the night shift at {place}, absolute heroes",
    "Can visitors bring flowers into {service} at {place} or is that not allowed",
    "{person} is still on the list for {service} after {wait}, is this normal",
    "The new booking app for {service} keeps crashing when I try to log in",
    "Lovely staff at {place} but the waiting room at {service} needs a good clean",
    "Has anyone had a letter about the changes to {service} at {place}",
    "Absolutely shocking that {service} is closing at weekends, where are we meant to go",
    "Took {person} to {place} last night and the doctors were fantastic, thank you",
)  # fmt: skip
_OPERATOR_LINES = (
    "The health board is hiding the real waiting times from the public, ask them why",
    "Everyone knows {place} is unsafe and the managers are covering it up again",
    "Stop wasting money on managers and fix {service} before someone dies",
    "They closed {service} to save money and now {person} has nowhere to go",
    "Do not believe the figures in this post, the real numbers for {service} are far worse",
    "Another press release while {service} at {place} falls apart, shameful",
    "Why will nobody at the board answer a simple question about {service}",
    "Ask yourselves who profits from closing {service} at {place}",
)  # fmt: skip
_CAMPAIGNS = (
    "Save our A&E at the Royal Glamorgan! Sign the petition and share with everyone you know",
    "Keep the maternity unit open at weekends, mothers in the valleys deserve better, sign now",
    "Say no to the closure of Ysbyty Cwm Cynon community beds, write to your MS today please",
    "Bring back the walk in centre in Bridgend, sign the petition before the consultation ends",
    "We need a proper stroke unit at Prince Charles Hospital, share this and sign the petition",
)  # fmt: skip
_EMOJI = ("😡", "👏", "🙏", "❤️", "😢", "🤔", "👍", "😤")
_SIGN_OFFS = (" x", " #SaveOurNHS", " - disgusted", " Diolch", " cheers", " #valleys")
_SLANG = (("you", "u"), ("please", "pls"), ("because", "cos"), ("thanks", "ta"), ("are", "r"))


@dataclass(frozen=True, slots=True)
class PopulationSpec:
    seed: int = 1
    accounts: int = 3000  # ordinary accounts
    rings: int = 80
    min_behaviours: int = 2  # a ring shows each behaviour with probability 1/2, at least this many
    days: int = 14
    posts_per_day: int = 10  # per platform
    household_share: float = 0.03  # ordinary accounts living in two-person households
    campaigns: int = 4
    campaign_share: float = 0.02  # ordinary accounts joining each campaign
    public_networks: int = 8  # guest wifi / carrier gateways many accounts share
    signal_rate: float = 0.6  # comments for which the platform shares a device hash
    public_network_rate: float = 0.15  # of those, the ones sent from a public network


@dataclass(frozen=True, slots=True)
class Ring:
    members: tuple[str, ...]  # author keys, sorted
    behaviours: tuple[str, ...]  # in BEHAVIOURS order


@dataclass(frozen=True, slots=True)
class Population:
    spec: PopulationSpec
    comments: tuple[Comment, ...]  # in event-time order
    rings: tuple[Ring, ...]
    households: tuple[tuple[str, str], ...]  # different people on one device: not puppets
    campaigners: frozenset[str]  # ordinary accounts that pasted a campaign text
    true_pairs: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # sorted pairs

    @property
    def puppets(self) -> frozenset[str]:
        return frozenset(m for r in self.rings for m in r.members)


@dataclass(slots=True)
class _Style:
    lower: bool
    shouty: bool
    ending: str
    emoji: str
    sign_off: str
    slang: bool
    no_apostrophes: bool
    opener: str

    def apply(self, text: str, rng: random.Random) -> str:
        out = f"{self.opener}{text[0].lower()}{text[1:]}" if self.opener else text
        if self.slang:
            for word, short in _SLANG:
                out = out.replace(f" {word} ", f" {short} ")
        if self.no_apostrophes:
            out = out.replace("'", "")
        if self.shouty:
            words = out.split(" ")
            i = rng.randrange(len(words))
            words[i] = words[i].upper()
            out = " ".join(words)
        if self.lower:
            out = out.lower()
        out = out.rstrip(".?!") + self.ending
        if self.emoji and rng.random() < 0.7:
            out = f"{out} {self.emoji}"
        if self.sign_off and rng.random() < 0.6:
            out += self.sign_off
        return out


@dataclass(slots=True)
class _Account:
    key: str
    platform: str
    name: str
    handle: str
    device: str
    style: _Style
    activity: int  # comments over the period, background chatter


@dataclass(frozen=True, slots=True)
class _Post:
    post_id: str
    platform: str
    at_ms: int
    popularity: float


class _Generator:
    def __init__(self, spec: PopulationSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.accounts = 0
        self.comment_seq = 0
        self.comments: list[Comment] = []
        self.personas: set[str] = set()
        self.public = [self._hash("public", i) for i in range(spec.public_networks)]
        self.posts = self._posts()
        self.by_platform = {
            p: [post for post in self.posts if post.platform == p] for p, _ in _PLATFORMS
        }

    # --- identities ---------------------------------------------------------------------

    def _hash(self, *parts: object) -> str:
        text = ":".join(str(p) for p in (self.spec.seed, *parts))
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def _platform(self) -> str:
        return self.rng.choices([p for p, _ in _PLATFORMS], [w for _, w in _PLATFORMS])[0]

    def _common_name(self, last: str | None = None) -> tuple[str, str]:
        # Zipf-like picks: a few names are very common, as they are in real valleys.
        rng = self.rng
        first = _FIRST[min(int(rng.paretovariate(1.1)) - 1, len(_FIRST) - 1)]
        if rng.random() < 0.5:
            first = rng.choice(_FIRST)
        if last is None:
            last = _LAST[min(int(rng.paretovariate(0.9)) - 1, len(_LAST) - 1)]
            if rng.random() < 0.4:
                last = rng.choice(_LAST)
        return first, last

    def _handle_for(self, first: str, last: str) -> str:
        rng = self.rng
        f, s = first.lower(), last.lower()
        pattern = rng.randrange(7)
        if pattern == 0:
            return f"{f}{s}"
        if pattern == 1:
            return f"{f}_{s}"
        if pattern == 2:
            return f"{f}{s}{rng.randrange(1, 100)}"
        if pattern == 3:
            return f"{f[0]}{s}{rng.randrange(60, 100)}"
        if pattern == 4:
            return f"{f}_{rng.choice(_HANDLE_WORDS)}"
        if pattern == 5:
            return f"{rng.choice(_HANDLE_WORDS)}{f}{rng.randrange(1, 10)}"
        return f"{f}{s[0]}{rng.randrange(1, 1000)}"

    def _style(self, quirks: int) -> _Style:
        rng = self.rng
        chosen = set(rng.sample(range(8), quirks))
        return _Style(
            lower=0 in chosen,
            shouty=1 in chosen,
            ending=rng.choice(("!!!", "...", "?!", "!!", " !!")) if 2 in chosen else ".",
            emoji=rng.choice(_EMOJI) if 3 in chosen else "",
            sign_off=rng.choice(_SIGN_OFFS) if 4 in chosen else "",
            slang=5 in chosen,
            no_apostrophes=6 in chosen,
            opener=rng.choice(("Honestly ", "Tbh ", "Well ", "So ", "Right "))
            if 7 in chosen
            else "",
        )

    def _account(self, platform: str, name: tuple[str, str] | None = None) -> _Account:
        self.accounts += 1
        first, last = name or self._common_name()
        handle = self._handle_for(first, last) if platform in _HANDLED else ""
        activity = max(1, min(40, round(self.rng.lognormvariate(1.0, 0.8))))
        return _Account(
            key=self._hash("account", self.accounts)[:32],
            platform=platform,
            name=f"{first} {last}",
            handle=handle,
            device=self._hash("device", self.accounts),
            style=self._style(self.rng.randint(0, 3)),
            activity=activity,
        )

    # --- posts and texts ----------------------------------------------------------------

    def _posts(self) -> list[_Post]:
        rng = self.rng
        posts = []
        for platform, _ in _PLATFORMS:
            for day in range(self.spec.days):
                for i in range(self.spec.posts_per_day):
                    at = START_MS + day * DAY_MS + rng.randrange(8 * HOUR_MS, 20 * HOUR_MS)
                    posts.append(
                        _Post(
                            f"{platform}:post-{day}-{i}", platform, at, rng.lognormvariate(0, 1.2)
                        )
                    )
        return sorted(posts, key=lambda p: (p.at_ms, p.post_id))

    def _pick_post(self, platform: str) -> _Post:
        posts = self.by_platform[platform]
        return self.rng.choices(posts, [p.popularity for p in posts])[0]

    def _reply_delay(self) -> int:
        # Most replies come within the first hour or two; a long tail comes days later.
        return min(int(self.rng.lognormvariate(7.6, 1.3) * 1000), 3 * DAY_MS)

    def _text(self, templates: tuple[str, ...] = _TEMPLATES) -> str:
        rng = self.rng
        return rng.choice(templates).format(
            place=rng.choice(_PLACES),
            person=rng.choice(_PEOPLE),
            service=rng.choice(_SERVICES),
            wait=rng.choice(_WAITS),
        )

    def _edit(self, text: str) -> str:
        """A light edit, as someone pasting and tweaking a message makes."""
        rng = self.rng
        words = text.split(" ")
        choice = rng.randrange(3)
        if choice == 0 and len(words) > 6:
            del words[rng.randrange(1, len(words) - 1)]
        elif choice == 1:
            words.insert(rng.randrange(1, len(words)), rng.choice(("really", "just", "now", "all")))
        else:
            words[-1] = words[-1].rstrip(".!?") + rng.choice(("!", "!!", "."))
        return " ".join(words)

    def _comment(
        self, account: _Account, post: _Post, at_ms: int, text: str, device: str | None = None
    ) -> None:
        rng = self.rng
        self.comment_seq += 1
        signals: tuple[str, ...] = ()
        if rng.random() < self.spec.signal_rate:
            if rng.random() < self.spec.public_network_rate:
                signals = (rng.choice(self.public),)
            else:
                signals = (device or account.device,)
        styled = account.style.apply(text, rng)
        self.comments.append(
            Comment(
                comment_id=f"{account.platform}:{self.spec.seed}-{self.comment_seq}",
                platform=account.platform,
                author_key=account.key,
                author_name=account.name,
                author_handle=account.handle,
                post_id=post.post_id,
                post_text="",
                event_time_ms=at_ms,
                text=styled,
                normalised=styled.casefold(),
                lang="en",
                source=f"synthetic[{self.spec.seed}]@{self.comment_seq}",
                signals=signals,
            )
        )

    def _chatter(self, account: _Account, count: int, device: str | None = None) -> None:
        for _ in range(count):
            post = self._pick_post(account.platform)
            self._comment(account, post, post.at_ms + self._reply_delay(), self._text(), device)

    # --- the population -----------------------------------------------------------------

    def ordinary(self) -> tuple[list[_Account], list[tuple[str, str]]]:
        spec, rng = self.spec, self.rng
        accounts: list[_Account] = []
        households: list[tuple[str, str]] = []
        while len(accounts) < spec.accounts:
            platform = self._platform()
            if rng.random() < spec.household_share / 2 and len(accounts) + 2 <= spec.accounts:
                first = self._account(platform)
                surname = first.name.split(" ")[1]
                second = self._account(platform, (self._common_name(surname)[0], surname))
                second.device = first.device  # the family tablet
                accounts.extend((first, second))
                households.append(ordered_pair(first.key, second.key))
                self._household_chatter(first, second)
                continue
            account = self._account(platform)
            accounts.append(account)
            self._chatter(account, account.activity)
        return accounts, households

    def _household_chatter(self, first: _Account, second: _Account) -> None:
        rng = self.rng
        for account, partner in ((first, second), (second, first)):
            for _ in range(account.activity):
                post = self._pick_post(account.platform)
                at = post.at_ms + self._reply_delay()
                self._comment(account, post, at, self._text())
                if rng.random() < 0.25:  # "look at this": the partner replies too, soon after
                    later = at + rng.randrange(20_000, 300_000)
                    self._comment(partner, post, later, self._text())

    def campaigns(self, accounts: list[_Account]) -> set[str]:
        spec, rng = self.spec, self.rng
        joined: set[str] = set()
        size = max(2, round(spec.accounts * spec.campaign_share))
        for c in range(spec.campaigns):
            text = _CAMPAIGNS[c % len(_CAMPAIGNS)]
            platform = self._platform()
            post = self._pick_post(platform)
            people = [a for a in accounts if a.platform == platform]
            for account in rng.sample(people, min(size, len(people))):
                at = post.at_ms + int(rng.expovariate(1 / (40 * MINUTE_MS)))
                self._comment(account, post, at, self._edit(text) if rng.random() < 0.5 else text)
                joined.add(account.key)
        return joined

    def _persona(self) -> str:
        # Distinct per ring, as real operators' personas are; two rings on one stem would
        # make the stem look common.
        rng = self.rng
        for attempt in range(1000):
            persona = f"{rng.choice(_PERSONA_FIRST)}_{rng.choice(_PERSONA_SECOND)}"
            if attempt > 50:  # the 400 two-word personas are running out: add a third word
                persona = f"{persona}_{rng.choice(_HANDLE_WORDS)}"
            if persona not in self.personas:
                self.personas.add(persona)
                return persona
        raise ValueError("too many rings for distinct personas: ask for fewer rings")

    def ring(self) -> Ring:
        rng = self.rng
        behaviours: tuple[str, ...] = ()
        while len(behaviours) < self.spec.min_behaviours:
            behaviours = tuple(b for b in BEHAVIOURS if rng.random() < 0.5)
        platform = self._platform()
        size = rng.randint(2, 6)
        operator_style = self._style(rng.randint(3, 5))
        operator_device = self._hash("operator", self.accounts)
        persona = self._persona()
        persona_name = self._common_name()
        members = []
        digits = rng.sample(range(1, 100), size)
        for i in range(size):
            if "similar_names" in behaviours:
                member = self._account(platform, persona_name)
                if platform not in _HANDLED:
                    member.name = persona.replace("_", " ").title()
                else:
                    sep = rng.choice(("_", "", "."))
                    member.handle = f"{persona.replace('_', sep)}{sep}{digits[i]}"
            else:
                member = self._account(platform)
            if "own_voice" in behaviours:
                member.style = operator_style
            if "shared_device" in behaviours:
                member.device = operator_device
            members.append(member)

        sessions = rng.randint(4, 10)
        for _ in range(sessions):
            post = self._pick_post(platform)
            start = post.at_ms + self._reply_delay()
            active = rng.sample(members, rng.randint(2, size)) if size > 2 else members
            message = self._text(_OPERATOR_LINES)
            at = start
            for member in active:
                if "co_timing" in behaviours:
                    at += rng.randrange(5_000, 45_000)
                    target = post
                elif "copy_paste" in behaviours:
                    # Pasted within minutes, each on whichever post the member picked.
                    at = start + rng.randrange(0, 8 * MINUTE_MS)
                    target = self._pick_post(platform)
                else:
                    target = self._pick_post(platform)
                    at = target.at_ms + self._reply_delay()
                text = (
                    self._edit(message)
                    if "copy_paste" in behaviours
                    else self._text(_OPERATOR_LINES)
                )
                self._comment(member, target, at, text)
        for member in members:
            self._chatter(member, rng.randint(1, 4))
        return Ring(tuple(sorted(m.key for m in members)), behaviours)


def generate(spec: PopulationSpec) -> Population:
    gen = _Generator(spec)
    accounts, households = gen.ordinary()
    campaigners = gen.campaigns(accounts)
    rings = tuple(gen.ring() for _ in range(spec.rings))
    truth = frozenset(pair for r in rings for pair in combinations(r.members, 2))
    comments = tuple(sorted(gen.comments, key=lambda c: (c.event_time_ms, c.comment_id)))
    return Population(
        spec=spec,
        comments=comments,
        rings=rings,
        households=tuple(households),
        campaigners=frozenset(campaigners),
        true_pairs=truth,
    )
