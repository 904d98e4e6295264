"""A seeded, realistic sample of raw envelopes for ``comments.raw``: demos, load and tests.

``sample_envelopes`` is pure (no clock, no I/O, one ``random.Random(seed)``): the same
arguments always give the same bytes, so a demo or an integration test can be replayed and
compared. The mix follows a health board's real comment sections: mostly questions about
appointments, thanks to staff and complaints about waiting that are not abusive, with a few
per cent of everything the acceptable-use policy covers, plus one account flooding
near-identical spam and a copy-paste campaign from five accounts with look-alike handles
(which share a device signal, as sock puppets often do).

Every name, staff member, account and id here is invented; hospitals and towns are real
places in the health board's area so the text reads as it would. Hate and abuse examples
are deliberately mild and use no slurs.

``main()`` sends the sample to Kafka::

    python -m workers.dev.sample_feed --count 1000 --bootstrap 127.0.0.1:9092 --topic comments.raw
"""

from __future__ import annotations

import asyncio
import logging
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
import orjson

from streams.platforms import facebook, instagram, linkedin, youtube
from streams.platforms import x as x_platform
from workers.cli_conventions import command, run_command
from workers.settings import KafkaSecurity

log = logging.getLogger(__name__)

# Tuesday 2026-03-03 10:00 Europe/London; GMT until 29 March, so also 10:00 UTC.
START_MS = 1_772_532_000_000

# Fictional staff named in the allegation examples, for a test staff registry.
FICTIONAL_STAFF = ("Bethan Howells", "Gareth Pryce", "Karen Tudor", "Alun Jenkins")

# Bigger than ingestion's limit (64 KiB by default), smaller than Kafka's 1 MB default
# message limit, so the broker accepts it and the normalise stage has to reject it.
OVERSIZE_TEXT_BYTES = 200_000

_BOARD_HANDLE = "CTMUHB"
_BOARD_X_ID = "2833475219"
_BOARD_YOUTUBE_CHANNEL = "UCt9mQ2rW8xK4fL7bN1pZ3sA"
_TWITTER_EPOCH_MS = 1_288_834_974_657

# --- content ------------------------------------------------------------------------------

_SITES = (
    "Prince Charles Hospital",
    "the Royal Glamorgan",
    "Princess of Wales",
    "Ysbyty Cwm Rhondda",
    "Ysbyty Cwm Cynon",
    "Keir Hardie Health Park",
    "Dewi Sant",
    "Maesteg Community Hospital",
)
_TOWNS = (
    "Merthyr",
    "Pontypridd",
    "Bridgend",
    "Aberdare",
    "Porth",
    "Tonypandy",
    "Llantrisant",
    "Maesteg",
    "Mountain Ash",
    "Treorchy",
)
_SERVICES = (
    "phlebotomy clinic",
    "minor injuries unit",
    "physio department",
    "fracture clinic",
    "eye clinic",
    "audiology clinic",
    "podiatry service",
    "flu jab clinic",
    "x-ray department",
    "breast screening unit",
)
_RELATIVES = ("mum", "dad", "nan", "grandad", "son", "daughter", "husband", "wife", "partner")
_WHEN = ("last night", "yesterday", "on Saturday", "last week", "this morning", "on Sunday")
_TEAMS = (
    "midwives",
    "A&E nurses",
    "porters",
    "physios",
    "reception staff",
    "paramedics and A&E team",
    "district nurses",
    "theatre staff",
)
_WARDS = ("Ward 6", "the children's ward", "the stroke unit", "ITU", "the day surgery unit")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

_QUESTIONS = (
    "Does anyone know if the {service} at {site} is open on {day}?",
    "How do I change my appointment at {site}? The phone line just rings out.",
    "Is there parking for blue badge holders at {site}?",
    "When will the {service} in {town} reopen?",
    "Can I bring my {relative} in with me to the {service}?",
    "Is the {service} walk-in or do I need to book?",
    "Will this be available in {town} as well or just {site}?",
    "What are the visiting hours on {ward} at {site} now?",
    "Do I need a referral from my GP for the {service}?",
    "Is this information available in Welsh? My {relative} would prefer it.",
    "Are there any buses from {town} to {site} that get there before 8?",
    "Has the {service} moved from {site}? Sat nav took me to the old entrance.",
)
_PRAISE = (
    "Huge thanks to the {team} at {site}, they were brilliant with my {relative} {when}.",
    "Just want to say the staff on {ward} at {site} are amazing. Diolch o galon! 💙",
    "Had my {relative}'s appointment at the {service} {when}, seen on time and so kind.",
    "Credit where it's due, the {team} at {site} were run off their feet and still smiling.",
    "Can't fault the care my {relative} got on {ward}. Thank you all x",
    "Great news for {town}, been waiting for this for years 👏",
    "The {team} in {town} are unsung heroes. Thank you for everything you do.",
    "Fantastic service at {site} {when}, in and out in under an hour!",
)
_COMPLAINTS = (
    "Waited {hours} hours in A&E at {site} {when}. Not the staff's fault but something has "
    "to change.",
    "{weeks} weeks waiting for a call back from the {service}. This isn't good enough.",
    "Parking at {site} is a nightmare, I nearly missed my {relative}'s appointment.",
    "Three letters with three different appointment times for the {service}. Which is it?",
    "Why has the {service} in {town} closed? People without cars can't get to {site}.",
    "My {relative} was sent home from {site} at 2am with no way to get back to {town}. Not right.",
    "Rang {times} times this morning trying to get through to the {service}, gave up.",
    "The waiting room at {site} was freezing {when}, please sort the heating out.",
)
_GENERAL = (
    "Shared with my {relative}, thanks for the info",
    "Good to know, thanks 👍",
    "Is this for {town} too?",
    "Thanks for posting this, really useful",
    "Tagging my {relative} so they see this",
    "About time! 🙌",
    "Booked, thank you",
)
_LINKEDIN_EXTRA = (
    "Congratulations to the {team} at {site} on the recognition, well deserved.",
    "Are there any band 5 nursing vacancies coming up at {site}?",
    "Great to see investment in {town}. Will there be roles for healthcare support workers?",
    "Proud to have trained at {site}. Wishing the {team} all the best.",
)
_SWEARING = (
    "Absolute f.u.c.k.i.n.g joke this place, {hours} hours and still not seen",
    "What a load of sh1t, cancelled AGAIN at {site}",
    "fcuk this health board honestly",
    "Bl00dy useless the lot of you, my {relative} deserves better",
    "shite service from start to finish at {site}",
    "F u c k i n g shambles in A&E tonight",
    "you're all a bunch of @rseholes in management",
    "p1ss poor from {site} again, {weeks} weeks for a letter",
)
_THREATS = (
    "Keep cancelling my op and see what happens. I know where that receptionist parks.",
    "Someone should burn {site} to the ground with the managers inside",
    "I'll be waiting outside {site} for the doctor who sent my {relative} home. He won't walk "
    "away from it.",
    "Next person who tells me to ring 111 is getting a smack, I mean it",
)
_HATE = (
    "Sick of paying for foreigners to jump the queue at {site}, send them all back where they "
    "came from",
    "Don't want a Muslim doctor anywhere near my kids, they should all be sacked",
    "Disabled people are just a drain on the NHS, stop wasting money on them",
    "Gay nurses shouldn't be allowed on the children's ward",
    "Trans people are mentally ill and shouldn't be treated here",
)
_ALLEGATIONS = (
    "Nurse Bethan Howells on {ward} at {site} stole money from my {relative}'s purse and "
    "nobody is doing anything about it",
    "Dr Gareth Pryce at {site} turns up drunk on shift, everyone on {ward} knows it",
    "That receptionist Karen Tudor at {site} deliberately lost my referral because she hates "
    "my family",
    "Alun Jenkins the ward manager on {ward} covered up what happened to my {relative}",
)
_ADVERTS = (
    "💊 Lose 10kg in 3 weeks with KetoBurn! Use code CTM20 for 20% off 👉 "
    "www.ketoburn-deals.example",
    "Earn £500 a day from home!! DM me or visit https://quickcash-now.example/join",
    "Private MRI scans in 48 hours, no waiting list! Book at scanfast.example.com code NHSWAIT",
    "Cheap glasses online 👓 50% off with code SPECS50 https://specs4less.example/offer",
    "Tired of waiting? Our private physio clinic in {town} has slots today, call 07700 900123",
)
_DRUGS = (
    "Got blues and bud, next day delivery anywhere in {town}, DM me 🍃💊",
    "Selling co-codamol and diazepam no prescription needed, message me on snap",
    "Need something for the pain? Tramadol 50p each, inbox me",
    "Xanax bars and pregabs available {town} area, discreet 📦",
)
_PERSONAL_CARE = (
    "My mum has been waiting {weeks} weeks for her scan at {site}, her NHS number is "
    "{nhs}, can someone please look into it",
    "I had my gallbladder out at {site} {when} and the wound looks infected, what should I do?",
    "My son's CAMHS referral was {weeks} weeks ago, his date of birth is 14/02/2012, can you "
    "chase it?",
    "Can someone ring me about my {relative}'s discharge from {ward}? Hospital number {nhs}",
    "I'm due my chemo at {site} on {day} but I've got a temperature, do I still go in?",
)
_EMERGENCY = (
    "I can't go on, I've taken all my tablets",
    "My {relative} has collapsed and isn't breathing properly, what do I do??",
    "I don't want to be here anymore. Nobody will miss me.",
)
_TROLLING = (
    "Who cares about your flu jabs, the moon landing was faked anyway 🌚",
    "First! Now post some cat pictures instead of this boring stuff",
    "Wales will never win the six nations again lol. Anyway vote for me in the pub quiz",
    "5G masts are what's really making everyone ill, wake up sheeple",
    "Nobody reads these posts. Bet the admin is on their phone all day 😂",
    "Pineapple belongs on pizza, fight me",
)
_FLOOD_TEXTS = (
    "🎁 FREE giveaway on my page!! Follow and click the link in my bio 🎁",
    "🎁 FREE giveaway on my page!!! Follow and click the link in my bio 🎁",
    "🎁 FREE giveaway on my page!! Follow + click the link in my bio 🎁🎁",
    "🎁 Free giveaway on my page!! Follow and click the link in my bio 🎁",
)
_CAMPAIGN_TEXTS = (
    "The board is covering up the truth about {site}. Share this before they delete it! "
    "#CTMcoverup",
    "The board is covering up the truth about {site}. SHARE this before they delete it!! "
    "#CTMcoverup",
)
_CAMPAIGN_HANDLES = (
    "justice4nurses",
    "justice4nurses_",
    "justice_4_nurses",
    "justice4nurses2",
    "justlce4nurses",
)

_FIRST = (
    "Sian", "Rhys", "Gareth", "Bethan", "Owain", "Ceri", "Dai", "Gwen", "Lowri", "Ieuan",
    "Megan", "Tomos", "Carys", "Huw", "Nia", "Dylan", "Ffion", "Jac", "Elin", "Aled", "Kelly",
    "Jason", "Leanne", "Craig", "Stacey", "Darren", "Nicola", "Wayne", "Emma", "Lee", "Sarah",
    "Ryan", "Hayley", "Mark", "Rachel", "Dean", "Claire", "Gavin", "Michelle", "Paul",
)  # fmt: skip
_LAST = (
    "Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Lewis", "Hughes", "Morgan",
    "Griffiths", "Price", "Rees", "Jenkins", "Powell", "Phillips", "Llewellyn", "Pritchard",
    "Bowen", "Watkins", "Harries", "Parry", "Richards", "Bevan", "James", "Owen",
)  # fmt: skip

# Share of ordinary traffic is the remainder; these are the policy categories.
_CATEGORY_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("question", 0.30),
    ("praise", 0.20),
    ("complaint", 0.22),
    ("general", 0.09),
    ("swearing", 0.035),
    ("threat", 0.01),
    ("hate", 0.01),
    ("allegation", 0.01),
    ("advert", 0.02),
    ("drugs", 0.01),
    ("personal_care", 0.03),
    ("emergency", 0.005),
    ("trolling", 0.02),
)
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "question": _QUESTIONS,
    "praise": _PRAISE,
    "complaint": _COMPLAINTS,
    "general": _GENERAL,
    "swearing": _SWEARING,
    "threat": _THREATS,
    "hate": _HATE,
    "allegation": _ALLEGATIONS,
    "advert": _ADVERTS,
    "drugs": _DRUGS,
    "personal_care": _PERSONAL_CARE,
    "emergency": _EMERGENCY,
    "trolling": _TROLLING,
}
_PLATFORM_WEIGHTS = (
    ("facebook", 0.40),
    ("x", 0.25),
    ("instagram", 0.15),
    ("youtube", 0.10),
    ("linkedin", 0.10),
)
# The board's posts that comments reply to; each platform gets its own copy with native ids.
_BOARD_POSTS = (
    "Our Emergency Departments are very busy today. Please only attend in an emergency and "
    "use NHS 111 Wales for advice.",
    "Flu and COVID-19 vaccination clinics are open this week across the health board. Book "
    "online or call your local centre.",
    "Blood test clinics are changing their opening times from Monday 9 March. Full details "
    "on our website.",
    "Meet the team at our new urgent primary care centre at Ysbyty Cwm Rhondda.",
)
_ORDINARY_AUTHORS = 136


# --- generation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Author:
    platform: str
    account_id: str
    name: str
    handle: str
    signal: str  # hashed device signal the platform shares, "" when it shares none


@dataclass(frozen=True, slots=True)
class _Post:
    post_id: str
    text: str


def sample_envelopes(
    n: int, seed: int = 7, start_ms: int = START_MS, *, include_bad: bool = False
) -> list[tuple[bytes, bytes]]:
    """``n`` (key, value) pairs for ``comments.raw`` with strictly increasing event times.

    With ``include_bad`` five malformed messages are added (n + 5 in all), one per
    ingestion dead-letter reason: invalid JSON, invalid UTF-8, unknown platform, a missing
    field and an oversize message.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    return _Feed(random.Random(seed), start_ms).build(n, include_bad=include_bad)


class _Feed:
    def __init__(self, rng: random.Random, start_ms: int) -> None:
        self._rng = rng
        self._now_ms = start_ms
        self._seen_ids: set[str] = set()
        self._posts = {p: self._board_posts(p, start_ms) for p, _ in _PLATFORM_WEIGHTS}
        self._authors = [self._author(self._pick_platform()) for _ in range(_ORDINARY_AUTHORS)]
        # Heavy posters are realistic: a few regulars comment on everything.
        self._activity = [rng.paretovariate(1.3) for _ in self._authors]
        self._advertisers = [self._author(rng.choice(("facebook", "instagram"))) for _ in "abc"]
        self._dealers = [self._author(rng.choice(("facebook", "instagram"))) for _ in "ab"]
        self._spammer = self._author("instagram", signal=self._signal())
        shared = self._signal()
        self._campaign = [
            self._author("x", handle=h, name="Justice for Nurses", signal=shared)
            for h in _CAMPAIGN_HANDLES
        ]

    # - the stream -

    def build(self, n: int, *, include_bad: bool) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        bursts: dict[int, Callable[[], list[tuple[bytes, bytes]]]] = {}
        if n >= 60:
            bursts[n * 35 // 100] = self._flood
            bursts[n * 60 // 100] = self._copy_paste_campaign
        # One of every category first, so even a short feed shows every route the policy names
        # (an emergency is rare by weight, but the demo and its tests must see one).
        if n >= 4 * len(_TEMPLATES):
            out.extend(self._one_of_each())
        while len(out) < n:
            burst = bursts.pop(len(out), None)
            if burst is None:
                out.append(self._ordinary_or_bad())
            else:
                out.extend(burst()[: n - len(out)])
        if include_bad:
            positions = (n // 5, 2 * n // 5, n // 2, 3 * n // 5, 4 * n // 5)
            for inserted, message in enumerate(self._malformed()):
                out.insert(positions[inserted] + inserted, message)
        return out

    def _one_of_each(self) -> list[tuple[bytes, bytes]]:
        return [self._comment(category) for category in _TEMPLATES]

    def _ordinary_or_bad(self) -> tuple[bytes, bytes]:
        names = [c for c, _ in _CATEGORY_WEIGHTS]
        category = self._rng.choices(names, weights=[w for _, w in _CATEGORY_WEIGHTS])[0]
        return self._comment(category)

    def _comment(self, category: str) -> tuple[bytes, bytes]:
        rng = self._rng
        if category == "advert":
            author = rng.choice(self._advertisers)
        elif category == "drugs":
            author = rng.choice(self._dealers)
        else:
            author = rng.choices(self._authors, weights=self._activity)[0]
        templates = _TEMPLATES[category]
        if author.platform == "linkedin" and category in {"question", "praise", "general"}:
            templates = templates + _LINKEDIN_EXTRA
        self._advance(1, 50)
        return self._envelope(author, self._fill(rng.choice(templates)))

    def _flood(self) -> list[tuple[bytes, bytes]]:
        messages = []
        for _ in range(12):
            self._advance(5, 25)
            messages.append(self._envelope(self._spammer, self._rng.choice(_FLOOD_TEXTS)))
        return messages

    def _copy_paste_campaign(self) -> list[tuple[bytes, bytes]]:
        messages = []
        site = self._rng.choice(_SITES)
        for _ in range(2):
            for author in self._campaign:
                self._advance(8, 40)
                text = self._rng.choice(_CAMPAIGN_TEXTS).format(site=site)
                messages.append(self._envelope(author, text))
        return messages

    def _advance(self, low_s: int, high_s: int) -> None:
        # Whole seconds, at least one apart: X, Facebook and Instagram timestamps have no
        # milliseconds, and a sub-second part added later must not reorder events.
        gap_s = low_s + min(int(self._rng.expovariate(2 / (low_s + high_s))), high_s * 4)
        self._now_ms = (self._now_ms // 1000 + max(gap_s, 1)) * 1000

    def _fill(self, template: str) -> str:
        rng = self._rng
        return template.format(
            site=rng.choice(_SITES),
            town=rng.choice(_TOWNS),
            service=rng.choice(_SERVICES),
            relative=rng.choice(_RELATIVES),
            when=rng.choice(_WHEN),
            team=rng.choice(_TEAMS),
            ward=rng.choice(_WARDS),
            day=rng.choice(_DAYS),
            hours=rng.randint(4, 14),
            weeks=rng.randint(3, 30),
            times=rng.randint(12, 60),
            nhs=self._nhs_number(),
        )

    def _nhs_number(self) -> str:
        # The 999 range is reserved for testing, and the check digit is valid, so detectors
        # that verify the modulus-11 check see a real-looking number.
        while True:
            digits = [9, 9, 9, *(self._rng.randrange(10) for _ in range(6))]
            check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
            if check == 10:
                continue
            text = "".join(map(str, [*digits, 0 if check == 11 else check]))
            return f"{text[:3]} {text[3:6]} {text[6:]}"

    # - people and posts -

    def _pick_platform(self) -> str:
        return self._rng.choices(
            [p for p, _ in _PLATFORM_WEIGHTS], weights=[w for _, w in _PLATFORM_WEIGHTS]
        )[0]

    def _signal(self) -> str:
        return "sha256:" + "".join(self._rng.choices("0123456789abcdef", k=16))

    def _author(
        self, platform: str, *, handle: str = "", name: str = "", signal: str = ""
    ) -> _Author:
        rng = self._rng
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        if not handle:
            style = rng.randrange(4)
            handle = (
                f"{first}.{last}".lower(),
                f"{first.lower()}_{last[:4].lower()}{rng.randint(60, 99)}",
                f"{first}{last}{rng.randint(1, 999)}",
                f"{last.lower()}{first[0].lower()}_{rng.choice(_TOWNS).lower().replace(' ', '')}",
            )[style]
            handle = self._unique(handle)
        account_id = self._unique(self._account_id(platform))
        if not name:
            name = f"{first} {last}" if rng.random() < 0.8 else f"{first} {last[0]}"
        if platform == "youtube":
            name = f"@{handle}"  # YouTube now shows the handle as the display name
        return _Author(platform, account_id, name, handle, signal)

    def _account_id(self, platform: str) -> str:
        rng = self._rng
        if platform == "x":
            return str(
                rng.randrange(10**17, 2 * 10**18)
                if rng.random() < 0.6
                else rng.randrange(10**7, 4 * 10**9)
            )
        if platform == "facebook":
            return str(rng.randrange(10**15, 10**16))
        if platform == "instagram":
            return f"178414{rng.randrange(10**10, 10**11)}"
        if platform == "linkedin":
            return "urn:li:person:" + "".join(
                rng.choices(string.ascii_letters + string.digits, k=10)
            )
        return "UC" + "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=22))

    def _unique(self, value: str) -> str:
        while value in self._seen_ids:
            value = f"{value}{self._rng.randrange(10)}"
        self._seen_ids.add(value)
        return value

    def _board_posts(self, platform: str, start_ms: int) -> list[_Post]:
        posts = []
        for i, text in enumerate(_BOARD_POSTS):
            posted_ms = start_ms - (len(_BOARD_POSTS) - i) * 3_600_000
            posts.append(_Post(self._native_post_id(platform, posted_ms), text))
        return posts

    def _native_post_id(self, platform: str, posted_ms: int) -> str:
        rng = self._rng
        if platform == "x":
            return str(_snowflake(posted_ms, rng.randrange(1 << 22)))
        if platform == "linkedin":
            return f"urn:li:activity:{_snowflake(posted_ms, rng.randrange(1 << 22))}"
        if platform == "youtube":
            return "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=11))
        return str(
            rng.randrange(10**15, 10**16)
            if platform == "facebook"
            else rng.randrange(17 * 10**16, 18 * 10**16)
        )

    # - platform shapes -

    def _envelope(self, author: _Author, text: str) -> tuple[bytes, bytes]:
        post = self._rng.choice(self._posts[author.platform])
        shape = _SHAPES[author.platform]
        envelope: dict[str, Any] = shape(self, author, text, post)
        if author.signal:
            envelope.setdefault("context", {})["signals"] = [author.signal]
        key = f"{author.platform}:{author.account_id}".encode()
        return key, orjson.dumps(envelope)

    # The payload shapes themselves are the platform modules' (streams/platforms/*.sample).

    def _x(self, author: _Author, text: str, post: _Post) -> dict[str, object]:
        tweet_id = self._unique(str(_snowflake(self._now_ms, self._rng.randrange(1 << 22))))
        mention = f"@{_BOARD_HANDLE} " if self._rng.random() < 0.7 else ""
        tweet = x_platform.sample(
            tweet_id=tweet_id,
            author_id=author.account_id,
            text=f"{mention}{text}",
            at_ms=self._now_ms,
            conversation_id=post.post_id,
            in_reply_to_user_id=_BOARD_X_ID,
            lang="cy" if "Diolch" in text else "en",
        )
        return {
            "platform": "x",
            "payload": {
                "data": tweet,
                "includes": {
                    "users": [
                        {"id": author.account_id, "name": author.name, "username": author.handle},
                        {
                            "id": _BOARD_X_ID,
                            "name": "Cwm Taf Morgannwg UHB",
                            "username": _BOARD_HANDLE,
                        },
                    ],
                    "tweets": [{"id": post.post_id, "text": post.text, "author_id": _BOARD_X_ID}],
                },
            },
        }

    def _facebook(self, author: _Author, text: str, post: _Post) -> dict[str, object]:
        comment_id = self._unique(f"{post.post_id}_{self._rng.randrange(10**15, 10**16)}")
        payload = facebook.sample(
            comment_id=comment_id,
            account_id=author.account_id,
            name=author.name,
            text=text,
            at_ms=self._now_ms,
            like_count=self._rng.randrange(6),
        )
        return {"platform": "facebook", "payload": payload, "context": {"post_text": post.text}}

    def _instagram(self, author: _Author, text: str, post: _Post) -> dict[str, object]:
        comment_id = self._unique(str(self._rng.randrange(17 * 10**16, 18 * 10**16)))
        payload = instagram.sample(
            comment_id=comment_id,
            account_id=author.account_id,
            username=author.handle,
            text=text,
            at_ms=self._now_ms,
            media_id=post.post_id,
            caption=post.text,
            like_count=self._rng.randrange(10),
        )
        return {"platform": "instagram", "payload": payload}

    def _linkedin(self, author: _Author, text: str, post: _Post) -> dict[str, object]:
        created_ms = self._now_ms + self._rng.randrange(1000)
        native = self._unique(str(_snowflake(created_ms, self._rng.randrange(1 << 22))))
        first, _, last = author.name.partition(" ")
        payload = linkedin.sample(
            post_urn=post.post_id,
            comment_id=native,
            actor=author.account_id,
            text=text,
            created_ms=created_ms,
            first_name=first,
            last_name=last,
        )
        return {"platform": "linkedin", "payload": payload, "context": {"post_id": post.post_id}}

    def _youtube(self, author: _Author, text: str, post: _Post) -> dict[str, object]:
        alphabet = string.ascii_letters + string.digits + "-_"
        comment_id = self._unique("Ugz" + "".join(self._rng.choices(alphabet, k=19)) + "4AaABAg")
        payload = youtube.sample(
            comment_id=comment_id,
            channel_id=_BOARD_YOUTUBE_CHANNEL,
            video_id=post.post_id,
            author_channel_id=author.account_id,
            name=author.name,
            handle=author.handle,
            text=text,
            at_ms=self._now_ms,
            like_count=self._rng.randrange(5),
        )
        return {"platform": "youtube", "payload": payload, "context": {"post_text": post.text}}

    # - one of each dead-letter reason -

    def _malformed(self) -> list[tuple[bytes, bytes]]:
        author = next((a for a in self._authors if a.platform == "facebook"), self._authors[0])
        key = f"{author.platform}:{author.account_id}".encode()
        good = self._facebook(author, "Is the eye clinic open today?", self._posts["facebook"][0])
        missing = orjson.loads(orjson.dumps(good))
        del missing["payload"]["from"]  # a connector without the permission to read authors
        unknown = {"platform": "tiktok", "payload": {"id": "7342", "text": "hello"}}
        oversize = orjson.loads(orjson.dumps(good))
        oversize["payload"]["message"] = "spam " * (OVERSIZE_TEXT_BYTES // 5)
        latin1 = orjson.dumps(good).decode().replace("eye clinic", "clinig llygaid café")
        return [
            (key, orjson.dumps(good)[:57]),  # cut off mid-message: invalid JSON
            (key, latin1.encode("latin-1")),  # a connector that re-encoded: invalid UTF-8
            (b"tiktok:7342", orjson.dumps(unknown)),
            (key, orjson.dumps(missing)),
            (key, orjson.dumps(oversize)),
        ]


_SHAPES: dict[str, Callable[[_Feed, _Author, str, _Post], dict[str, object]]] = {
    "x": _Feed._x,
    "facebook": _Feed._facebook,
    "instagram": _Feed._instagram,
    "linkedin": _Feed._linkedin,
    "youtube": _Feed._youtube,
}


def _snowflake(ms: int, sequence: int) -> int:
    # X and LinkedIn ids grow with time; ids that match the timestamp read as real.
    return ((ms - _TWITTER_EPOCH_MS) << 22) | sequence


# --- Kafka --------------------------------------------------------------------------------


async def produce(
    messages: Sequence[tuple[bytes, bytes]],
    *,
    bootstrap: str,
    topic: str,
    security: KafkaSecurity | None = None,
) -> None:
    from aiokafka import AIOKafkaProducer  # only the CLI needs Kafka

    from workers.kafka_clients import security_options

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=20,
        acks="all",
        **security_options(security or KafkaSecurity()),
    )
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


@command("feed", help=(__doc__ or "").split("\n\n")[0])
@click.option("--count", type=int, default=1000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--start-ms", type=int, default=START_MS, show_default=True)
@click.option("--include-bad", is_flag=True, help="add one message per dead-letter reason")
@click.option("--bootstrap", default="127.0.0.1:9092", show_default=True)
@click.option("--topic", default="comments.raw", show_default=True)
def feed_command(
    count: int, seed: int, start_ms: int, include_bad: bool, bootstrap: str, topic: str
) -> int:
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s")
    messages = sample_envelopes(count, seed, start_ms, include_bad=include_bad)
    # Credentials come from the same MODSTREAM_KAFKA_* variables as the workers'.
    security = KafkaSecurity.from_env()
    asyncio.run(produce(messages, bootstrap=bootstrap, topic=topic, security=security))
    log.info("sent %d messages to %s", len(messages), topic)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(feed_command, argv, "modstream feed")


if __name__ == "__main__":
    raise SystemExit(main())
