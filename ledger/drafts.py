"""Draft statements from an article: who said what, when, and how sure, proposed by rules.

Nothing here writes. ``draft(text, published, sources)`` reads an article's text and answers
``Proposal`` s a person then edits, rejects or accepts (``POST /drafts``, ``claims-ledger
draft``, the web view's ``/ui/drafts``). It is rule-based and needs no model:

- **Sentences** are split at end punctuation, never inside a quotation (a quote of three
  sentences stays one).
- **Attribution**: a speech verb outside quotation marks ("said", "told", "claimed",
  "warned", "denied", "dismissed", "rejected", "confirmed", "assessed", "accused"...) with
  its subject before it ("Peskov on Thursday dismissed"), after it ("..., said the
  minister") or a pronoun ("he added": the last speaker); and "according to X".
- **Who**: a known source by its name, surname, acronym ("NIS"), a name within a longer
  phrase ("Kremlin spokesman Dmitry Peskov"), its role ("the Ukrainian president" for a
  source whose role is "President of Ukraine" and affiliation UA), or a collective head noun
  ("multiple governments" for "Governments accusing ..."); a country or its capital ("the
  Kremlin", "Pyongyang") or "both countries" stands for the governments named; anyone else
  is proposed as a new source with a slug (a surname alone takes the full name and title
  the article gave elsewhere: "Putin" after "Russian President Vladimir Putin"), and an
  affiliation when a country is named; later mentions find the new source proposed first.
- **Type**: a denial verb or cue ("hoax", "fake", "false", "no truth") makes ``denied``;
  ICD 203 words and their synonyms (``ledger.likelihood``) or a hedge ("could be accurate",
  "the possibility ... is very high") make ``assessed``, with the words used; else
  ``asserted``.
- **When**: a date phrase by the attribution ("Peskov on Thursday dismissed", "said last
  week"), after words naming the occasion ("speaking at the audit on Tuesday") or in the
  framing of a one-statement sentence ("In his message on Sunday, ... said"), never one
  inside what was said (that dates what it is about); read by ``dateparser`` relative to
  the article's date, with the period it names (day, week, month, year). "During that
  trip" takes the previous sentence's date; "he added" the speaker's previous date;
  otherwise the article's date stands in, and the proposal says so.
  An undated statement by a source who is also quoted with a date, of the same type, is the
  same statement told twice (a news lead restates the body): it is folded into the dated one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ledger.errors import InvalidInput
from ledger.inputs import check_reference, slug
from ledger.likelihood import ICD203_TERMS, SYNONYMS, parse_likelihood
from ledger.statements import StatementType
from ledger.times import now, parse_instant

if TYPE_CHECKING:
    from ledger.application import ClaimsLedger

__all__ = [
    "MAX_ARTICLE",
    "KnownSource",
    "NewSource",
    "Proposal",
    "draft",
    "draft_article",
    "known_sources",
]

#: The longest article text read (characters).
MAX_ARTICLE = 200_000
#: The longest sentence read as one (characters); longer runs are read in pieces.
MAX_SENTENCE = 1_000

# --- vocabulary --------------------------------------------------------------------------

_ASSERT_VERBS = (
    # Forms that are as often nouns ("the claim", "reports", "states") are left out.
    "said", "says", "told", "tells", "claimed", "warned", "warns",
    "confirmed", "confirms", "stated", "announced", "announces", "added", "adds",
    "alleged", "alleges", "accused", "accuses", "insisted", "insists", "reported",
    "declared", "declares", "acknowledged", "admitted", "argued", "wrote",
    "explained", "noted", "revealed", "charged",
)
_DENY_VERBS = (
    "denied", "denies", "dismissed", "dismisses", "rejected", "rejects", "refuted",
    "refutes", "disputed", "disputes", "rebuffed", "repudiated",
)
_ASSESS_VERBS = ("assessed", "assesses", "estimated", "estimates", "judged", "judges")
_VERBS = (*_ASSERT_VERBS, *_DENY_VERBS, *_ASSESS_VERBS)
_VERB = re.compile(r"\b(" + "|".join(sorted(_VERBS, key=len, reverse=True)) + r")\b")
_ACCORDING = re.compile(r"\baccording to\b", re.IGNORECASE)
#: Words that make a statement a denial, wherever they stand in it.
_DENIAL_CUES = re.compile(
    r"\b(hoax(es)?|fake|false(hood)?s?|untrue|no truth|baseless|groundless|fabricat\w+|"
    r"lies?|nonsense|unfounded|not true|never happened|provocation|disinformation|"
    r"no evidence)\b",
    re.IGNORECASE,
)
#: Hedges outside ICD 203's words: (pattern, probability, why). "Could be accurate" grants
#: the claim a possibility, which the example data reads as weak support (0.6).
_HEDGES: tuple[tuple[re.Pattern[str], float, str], ...] = (
    (re.compile(r"\b(?:possibility|probability|likelihood|chances?)\b[^.;]{0,80}?\b(?:is|are|was"
                r"|were)\s+(?:very|extremely)\s+high\b", re.IGNORECASE), 0.875,
     "a very high possibility: very likely"),
    (re.compile(r"\b(?:possibility|probability|likelihood|chances?)\b[^.;]{0,80}?\b(?:is|are|was"
                r"|were)\s+high\b", re.IGNORECASE), 0.675, "a high possibility: likely"),
    (re.compile(r"\b(?:possibility|probability|likelihood|chances?)\b[^.;]{0,80}?\b(?:is|are|was"
                r"|were)\s+(?:very\s+)?low\b", re.IGNORECASE), 0.325,
     "a low possibility: unlikely"),
    (re.compile(r"\b(?:could|may|might)\s+(?:well\s+)?be\s+(?:accurate|true|correct|right|the "
                r"case|genuine|real)\b", re.IGNORECASE), 0.6,
     "a possibility granted: weak support (0.6)"),
    (re.compile(r"\b(?:is|was|are|were)\s+(?:possible|plausible|credible)\b", re.IGNORECASE), 0.6,
     "a possibility granted: weak support (0.6)"),
)
_LIKELIHOOD_WORDS = sorted({*ICD203_TERMS, *SYNONYMS}, key=len, reverse=True)
_LIKELIHOOD = re.compile(
    r"\b(" + "|".join(re.escape(w).replace(r"\ ", r"[\s-]+") for w in _LIKELIHOOD_WORDS)
    + r")\b",
    re.IGNORECASE,
)

#: Countries: code -> (name, adjectives and other names, capitals and seats of government).
COUNTRIES: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "RU": ("Russia", ("Russian", "Russia"), ("Moscow", "the Kremlin", "Kremlin")),
    "KP": ("North Korea", ("North Korean", "North Korea", "DPRK"), ("Pyongyang",)),
    "KR": ("South Korea", ("South Korean", "South Korea"), ("Seoul",)),
    "UA": ("Ukraine", ("Ukrainian", "Ukraine"), ("Kyiv", "Kiev")),
    "US": ("the United States", ("American", "United States", "US", "U.S."),
           ("Washington", "the White House", "White House", "the Pentagon")),
    "CN": ("China", ("Chinese", "China"), ("Beijing",)),
    "GB": ("the United Kingdom", ("British", "Britain", "United Kingdom", "UK"),
           ("London", "Downing Street")),
    "FR": ("France", ("French", "France"), ("Paris", "the Elysee")),
    "DE": ("Germany", ("German", "Germany"), ("Berlin",)),
    "JP": ("Japan", ("Japanese", "Japan"), ("Tokyo",)),
    "IR": ("Iran", ("Iranian", "Iran"), ("Tehran",)),
    "IL": ("Israel", ("Israeli", "Israel"), ("Jerusalem",)),
    "BY": ("Belarus", ("Belarusian", "Belarus"), ("Minsk",)),
    "PL": ("Poland", ("Polish", "Poland"), ("Warsaw",)),
    "TR": ("Turkey", ("Turkish", "Turkey"), ("Ankara",)),
    "IN": ("India", ("Indian", "India"), ("New Delhi",)),
    "SY": ("Syria", ("Syrian", "Syria"), ("Damascus",)),
}
_COUNTRY_WORDS = sorted(
    ((word, code) for code, (_, names, seats) in COUNTRIES.items() for word in (*names, *seats)),
    key=lambda pair: len(pair[0]), reverse=True,
)
_COUNTRY = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(w) for w, _ in _COUNTRY_WORDS) + r")(?![\w-])"
)
_CODE_OF = {word.casefold(): code for word, code in _COUNTRY_WORDS}

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November"
           "|December")
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE_PHRASES = re.compile(
    "|".join((
        rf"\b(?:(?i:on)\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})(?:,?\s+\d{{4}})?\b",
        rf"\b(?:(?i:on)\s+)?(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?",
        rf"\b(?:(?i:on|last|this\s+past|this|since)\s+)?(?:{_WEEKDAYS})\b",
        rf"\b(?i:in|since|last|early|late|mid-?)\s*(?:{_MONTHS})(?:\s+\d{{4}})?\b",
        rf"\b(?:{_MONTHS})\s+\d{{4}}\b",
        r"\b(?i:yesterday|today|tonight|last\s+night|this\s+morning|earlier\s+today)\b",
        r"\b(?i:(?:last|this|past)\s+(?:week|month|year|weekend))\b",
        r"\b(?i:(?:\d+|a|an|one|two|three|four|five|six|seven|ten)\s+(?:days?|weeks?|months?"
        r"|years?)\s+ago)\b",
        r"\b(?i:in)\s+\d{4}\b",
    )),
)
#: A date phrase that points back at the previous sentence's date.
_ANAPHORIC_DATE = re.compile(
    r"\b(?:during|on|in|at)\s+(?:that|the\s+same)\s+(?:trip|visit|day|meeting|occasion|time|"
    r"event|summit|speech|interview|conference)\b|\bat\s+the\s+time\b",
    re.IGNORECASE,
)
_CONTINUATION_VERBS = {"added", "adds"}
_TITLES = {"minister", "president", "secretary", "spokesman", "spokeswoman", "spokesperson",
           "chancellor", "ambassador", "senator", "general", "director", "commander", "chief",
           "king", "queen", "premier", "governor", "mayor", "envoy", "leader", "admiral",
           "marshal", "colonel", "sheikh", "prince", "chairman", "chairwoman", "head",
           # portfolios, so that "Secretary of State Antony Blinken" names Antony Blinken
           "state", "defence", "defense", "foreign", "affairs", "interior", "finance",
           "justice", "security", "staff"}
_HONORIFIC = r"(?:Mr|Mrs|Ms|Dr|Gen|Col|Lt|Sen|Rep|Gov|Prof)\."

_PRONOUNS = {"he", "she", "they", "we"}
_NOT_SUBJECTS = {"it", "this", "that", "which", "who", "what", "there", "i", "you", "one",
                 "these", "those", "officials said", "reports"}
_AUXILIARIES = {"has", "have", "had", "also", "reportedly", "previously", "publicly", "again",
                "repeatedly", "later", "earlier", "then", "recently", "flatly", "strongly",
                "firmly", "swiftly", "quickly", "once", "already", "has also", "had also",
                "separately", "furthermore", "today", "yesterday", "is", "was", "were"}
_LEADING = {"but", "and", "however", "meanwhile", "yet", "so", "while", "as", "also", "still",
            "now", "instead", "earlier", "later", "separately"}
_DETERMINERS = {"the", "a", "an", "both", "multiple", "several", "many", "some", "two",
                "three", "all", "other", "various", "western", "senior", "its", "their",
                "his", "her", "our"}
_COLLECTIVE = re.compile(
    r"\b(?:both|the\s+two)\s+(?:countries|nations|states|governments|sides|capitals)\b",
    re.IGNORECASE,
)
_QUOTE_PAIRS = {"\u201c": "\u201d", '"': '"', "\u00ab": "\u00bb"}
_CLOSING = "\u201d\"\u00bb'\u2019"  # what may close a sentence after its full stop


# --- what goes in and out ----------------------------------------------------------------

@dataclass(frozen=True)
class KnownSource:
    """A registered source as drafting needs it."""

    id: str
    name: str
    role: str | None = None
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewSource:
    """A source the article names that the ledger does not know: to be registered first."""

    id: str
    name: str
    role: str | None = None
    affiliation: str | None = None

    def as_dict(self) -> dict[str, Any]:
        found = {"id": self.id, "name": self.name, "role": self.role,
                 "affiliation": self.affiliation}
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class Proposal:
    """One proposed statement: who, what type, how sure, when, the words and why."""

    source: str
    source_name: str
    new_source: NewSource | None
    type: str
    occurred_at: date
    date_precision: str  # day, week, month or year: the period the date phrase names
    date_basis: str  # how the date was read ("'on Sunday' before 2024-10-14", ...)
    sentence: str
    quote: str
    reason: str
    likelihood: float | str | None = None  # an ICD 203 word as said, or a probability
    likelihood_phrase: str | None = None
    likelihood_term: str | None = None  # the ICD 203 band the likelihood falls in
    index: int = 0  # the sentence's number in the article, from 1
    dated: bool = True  # False: no date phrase; the article's date stands in

    def window(self) -> tuple[date, date]:
        """The first and last day of the period the date phrase names."""
        start = self.occurred_at
        if self.date_precision == "week":
            start = start - timedelta(days=start.weekday())
            return start, start + timedelta(days=6)
        if self.date_precision == "month":
            start = start.replace(day=1)
            following = (start + timedelta(days=32)).replace(day=1)
            return start, following - timedelta(days=1)
        if self.date_precision == "year":
            return start.replace(month=1, day=1), start.replace(month=12, day=31)
        return start, start

    def as_dict(self) -> dict[str, Any]:
        """The proposal as ``POST /drafts`` answers it."""
        first, last = self.window()
        return {
            "source": self.source,
            "source_name": self.source_name,
            "new_source": None if self.new_source is None else self.new_source.as_dict(),
            "type": str(self.type),
            "likelihood": self.likelihood,
            "likelihood_phrase": self.likelihood_phrase,
            "likelihood_term": self.likelihood_term,
            "occurred_at": self.occurred_at.isoformat(),
            "date_precision": self.date_precision,
            "date_window": [first.isoformat(), last.isoformat()],
            "date_basis": self.date_basis,
            "dated": self.dated,
            "quote": self.quote,
            "sentence": self.sentence,
            "sentence_index": self.index,
            "reason": self.reason,
        }

    def event(self, reference: str | None = None) -> dict[str, Any]:
        """The proposal as an event body (``POST /claims/{id}/events``), unchanged."""
        body: dict[str, Any] = {
            "type": str(self.type), "source": self.source,
            "occurred_at": self.occurred_at.isoformat(), "quote": self.quote,
        }
        if self.type == StatementType.ASSESSED and self.likelihood is not None:
            body["likelihood"] = self.likelihood
            if self.likelihood_phrase and not isinstance(self.likelihood, str):
                body["likelihood_phrase"] = self.likelihood_phrase
        if reference:
            body["reference"] = reference
        body["note"] = f"Drafted from the article: {self.reason}; date: {self.date_basis}."
        return body


def known_sources(records: Iterable[Mapping[str, Any]]) -> list[KnownSource]:
    """Known sources from the ledger's source answers (``id``, ``name``, ``role``, ...)."""
    found = []
    for record in records:
        affiliations = list(record.get("affiliations") or ())
        if not affiliations and record.get("affiliation"):
            affiliations = [record["affiliation"]]
        found.append(KnownSource(str(record["id"]), str(record["name"]), record.get("role"),
                                 tuple(str(a).upper() for a in affiliations)))
    return found


# --- text ---------------------------------------------------------------------------------

def _plain(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")


def _fold(text: str) -> str:
    """Case, accents, possessives and punctuation folded away, for comparing names."""
    text = unicodedata.normalize("NFKD", _plain(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"'s\b", "", text)
    return re.sub(r"[^\w-]+", " ", text).strip()


def sentences(text: str) -> list[str]:
    """The article's sentences: split after . ! ? (and a closing quote), never inside a
    quotation, and at every line break."""
    found: list[str] = []
    for paragraph in re.split(r"\n\s*", text):
        start, closing = 0, None
        i = 0
        while i < len(paragraph):
            char = paragraph[i]
            if closing is not None:
                if char == closing:
                    closing = None
                    if i > 0 and paragraph[i - 1] in ".!?" and _ends(paragraph, i + 1):
                        found.append(paragraph[start:i + 1].strip())
                        start = i + 1
            elif char in _QUOTE_PAIRS:
                closing = _QUOTE_PAIRS[char]
            elif char in ".!?" and _ends(paragraph, i + 1) and not _abbreviation(paragraph, i):
                end = i + 1
                if end < len(paragraph) and paragraph[end] in _CLOSING:
                    end += 1
                found.append(paragraph[start:end].strip())
                start = i = end
                continue
            i += 1
        if paragraph[start:].strip():
            found.append(paragraph[start:].strip())
    return [piece for s in found if s for piece in _pieces(s)]


def _pieces(sentence: str) -> list[str]:
    """A "sentence" longer than ``MAX_SENTENCE`` (a list, a table, text without stops) in
    pieces of at most that, cut at spaces: each is read on its own, in bounded time."""
    pieces = []
    while len(sentence) > MAX_SENTENCE:
        cut = sentence.rfind(" ", 0, MAX_SENTENCE)
        cut = cut if cut > 0 else MAX_SENTENCE
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    return [*(p for p in pieces if p), *([sentence] if sentence else [])]


def _ends(text: str, at: int) -> bool:
    rest = text[at:]
    opening = rf"[{_CLOSING}]?\s+[\u201c\"\u00abA-Z0-9]"
    return not rest.strip() or bool(re.match(opening, rest))


def _abbreviation(text: str, at: int) -> bool:
    begins = max(text.rfind(" ", 0, at), text.rfind("\t", 0, at)) + 1
    word = re.fullmatch(r"(\S+)", text[begins:at + 1])  # the word the full stop ends
    return bool(word and re.fullmatch(r"(?:[A-Z]\.)+|Mr\.|Mrs\.|Ms\.|Dr\.|St\.|Gen\.|Col\.|"
                                      r"Lt\.|Sen\.|Rep\.|Gov\.|Prof\.", word.group(1)))


def _quoted_spans(sentence: str) -> list[tuple[int, int]]:
    spans, opened, closing = [], 0, None
    for i, char in enumerate(sentence):
        if closing is not None and char == closing:
            spans.append((opened, i + 1))
            closing = None
        elif closing is None and char in _QUOTE_PAIRS:
            opened, closing = i, _QUOTE_PAIRS[char]
    if closing is not None:
        spans.append((opened, len(sentence)))
    return spans


def _inside(spans: Sequence[tuple[int, int]], at: int) -> bool:
    return any(start <= at < end for start, end in spans)


def _quotation(text: str) -> str | None:
    """The words inside the quotation marks of ``text``, if any."""
    parts = [text[a + 1:b - 1].strip(" ,") for a, b in _quoted_spans(text)]
    parts = [p for p in parts if len(p.split()) >= 2]
    return " ".join(parts) if parts else None


def _slug(name: str) -> str:
    folded = _fold(name).replace(" ", "-")
    return re.sub(r"[^a-z0-9-]+", "", folded).strip("-")[:64] or "source"


# --- dates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _When:
    day: date
    precision: str
    basis: str
    dated: bool = True


class _Dates:
    def __init__(self, published: date) -> None:
        from dateparser.date import DateDataParser  # imported when used (~0.2 s)

        self.published = published
        self.parser = DateDataParser(languages=["en"], settings={
            "RELATIVE_BASE": datetime(published.year, published.month, published.day),
            "PREFER_DATES_FROM": "past",
            "RETURN_TIME_AS_PERIOD": True,
        })
        self.seen: dict[str, Any] = {}

    def read(self, text: str, spans: Sequence[tuple[int, int]] = (),
             within: Sequence[tuple[int, int]] | None = None) -> _When | None:
        """The first date phrase in ``text`` (outside ``spans``, and starting inside one of
        the ``within`` windows if given) that names a past date."""
        for match in _DATE_PHRASES.finditer(text):
            phrase = match.group(0).strip()
            if not phrase or _inside(spans, match.start()):
                continue
            if within is not None and not _inside(within, match.start()):
                continue
            cleaned = re.sub(r"^(?:on|in|since|this\s+past|early|late|mid-?)\s*", "", phrase,
                             flags=re.IGNORECASE)
            if cleaned not in self.seen:  # one article names the same day many times
                self.seen[cleaned] = self.parser.get_date_data(cleaned)
            found = self.seen[cleaned]
            if found.date_obj is None:
                continue
            day = found.date_obj.date()
            if day > self.published:  # "on Monday" in an article of a Sunday: last Monday
                continue
            precision = found.period or "day"
            if precision == "week":
                day = day - timedelta(days=day.weekday())
            elif precision == "month":
                day = day.replace(day=1)
            elif precision == "year":
                day = day.replace(month=1, day=1)
            return _When(day, precision,
                         f"{phrase!r} read relative to the article's date "
                         f"{self.published.isoformat()} ({precision})")
        return None

    def fallback(self) -> _When:
        return _When(self.published, "day",
                     f"no date in the sentence: the article's date {self.published.isoformat()}",
                     dated=False)


# --- sources ------------------------------------------------------------------------------

class _Sources:
    def __init__(self, known: Sequence[KnownSource]) -> None:
        self.known = list(known)
        #: New sources proposed so far: a later mention ("Zelensky") finds the one an
        #: earlier sentence named in full ("Volodymyr Zelensky").
        self.proposed: dict[str, NewSource] = {}
        #: Full names the article gives elsewhere, by last word (``full_names``).
        self.names: dict[str, tuple[str, str | None, str | None]] = {}

    def adopt(self, new: NewSource) -> None:
        if new.id not in self.proposed and self.by_id(new.id) is None:
            self.proposed[new.id] = new
            self.known.append(KnownSource(new.id, new.name, new.role,
                                          (new.affiliation,) if new.affiliation else ()))

    def by_id(self, source_id: str) -> KnownSource | None:
        return next((s for s in self.known if s.id == source_id), None)

    def match(self, mention: str) -> tuple[KnownSource, str] | None:
        """The known source a mention names, and how it was recognised."""
        folded = _fold(mention)
        if not folded:
            return None
        words = folded.split()
        best: list[tuple[int, KnownSource, str]] = []
        for source in self.known:
            name = re.sub(r"\s*\(.*?\)\s*", " ", source.name).strip()
            fname = _fold(name)
            name_words = fname.split()
            qualifier = re.findall(r"\((.*?)\)", source.name)
            if fname and re.search(rf"(?<![\w-]){re.escape(fname)}(?![\w-])", folded):
                score = len(fname)
                country = _countries_in(mention)
                if country and source.affiliations and country[0] not in source.affiliations \
                        and not any(_countries_in(q) == country[:1] for q in qualifier):
                    score -= 1000  # "Russia's foreign intelligence service" is another one
                best.append((score, source, f"name {name!r}"))
                continue
            if len(name_words) >= 2 and len(words) == 1 and words[0] == name_words[-1]:
                best.append((len(words[0]), source, f"surname {name_words[-1]!r}"))
                continue
            capitals = [w for w in re.findall(r"[\w-]+", name) if w[:1].isupper()]
            acronym = "".join(w[0] for w in capitals)
            if len(capitals) >= 2 and re.search(rf"\b{acronym}\b", mention):
                best.append((len(acronym), source, f"acronym {acronym!r}"))
                continue
            described = self._described(words, mention, source)
            if described:
                best.append((3, source, described))
                continue
            if (len(words) >= 2 and words[0] in _DETERMINERS and name_words
                    and words[-1] == name_words[0] and words[-1].endswith("s")):
                best.append((2, source, f"head noun {words[-1]!r}"))
        best = [b for b in best if b[0] > 0]
        if not best:
            return None
        best.sort(key=lambda b: b[0], reverse=True)
        if len(best) > 1 and best[0][0] == best[1][0]:
            return None  # two sources fit equally: a person decides
        return best[0][1], best[0][2]

    @staticmethod
    def _described(words: list[str], mention: str, source: KnownSource) -> str | None:
        # "the Ukrainian president", "Ukraine's president": a role and a country, no name.
        if not source.role or any(w[:1].isupper() for w in re.findall(r"[\w-]+", mention)
                                  if not _CODE_OF.get(w.casefold()) and w[:1].isupper()
                                  and w.casefold() not in _DETERMINERS):
            return None
        role = _fold(source.role).split()
        head = words[-1] if words else ""
        if head not in role:
            return None
        countries = _countries_in(mention)
        if not countries or not (set(countries) & set(source.affiliations)
                                 or set(countries) & set(_countries_in(source.role))):
            return None
        return f"role {source.role!r} and country {countries[0]}"

    def government(self, code: str) -> tuple[str, str, NewSource | None, str]:
        """The government of a country: a known source (role or name says government, its
        affiliation the country) or a new one."""
        for source in self.known:
            if code in source.affiliations and (
                    "government" in _fold(source.role or "") or
                    _fold(source.name).startswith("government")):
                return (source.id, source.name, self.proposed.get(source.id),
                        f"the government of {code}")
        name = f"Government of {COUNTRIES[code][0].removeprefix('the ')}"
        new = NewSource(f"{code.lower()}-government", name, "government", code)
        return new.id, new.name, new, f"the government of {code} (new source)"


def _countries_in(text: str) -> list[str]:
    found: list[str] = []
    for match in _COUNTRY.finditer(_plain(text)):
        code = _CODE_OF[match.group(1).casefold()]
        if code not in found:
            found.append(code)
    return found


# --- clauses ------------------------------------------------------------------------------

@dataclass
class _Clause:
    verb: str
    start: int  # where the subject starts
    verb_start: int
    verb_end: int
    subject: str
    content: str = ""
    #: Where in the sentence the content is (its date phrases are the clause's).
    windows: list[tuple[int, int]] = field(default_factory=list)
    according: bool = False
    speakers: list[tuple[str, str, NewSource | None, str]] = field(default_factory=list)


def _strip_subject(before: str) -> str:
    words = before.split()
    changed = True
    while words and changed:
        changed = False
        while words and words[-1].casefold().strip(",") in _AUXILIARIES:
            words.pop()
            changed = True
        while words and words[0].casefold().strip(",") in _LEADING:
            words.pop(0)
            changed = True
    return " ".join(words).strip(" ,;:")


def _clauses(sentence: str) -> list[_Clause]:
    spans = _quoted_spans(sentence)
    found: list[_Clause] = []
    dateless = _DATE_PHRASES.sub(lambda m: " " * len(m.group(0)), sentence)
    for match in _VERB.finditer(sentence):
        if _inside(spans, match.start()):
            continue
        left = dateless[:match.start()]
        cut = max(left.rfind(c) for c in ",;:\u201c\u201d\"(\u2014\u2013")
        before = left[cut + 1:]
        subject = _strip_subject(before)
        start = cut + 1 + (len(before) - len(before.lstrip()))
        appositive = re.search(r"(?:^|[,;:\u201c\u201d\"])([^,;:\u201c\u201d\"]+),\s*"
                               r"(?:a|an|the|who|its|his|her)\b[^,;:]*,\s*$", left)
        if not subject and appositive:  # "John Smith, a local mayor, said"
            subject = _strip_subject(appositive.group(1))
            start = appositive.start(1)
        if not subject:
            named = re.match(rf"\s+((?:the\s+)?(?:{_HONORIFIC}\s+)?[^,.;:\u201c\u201d\"]+)",
                             sentence[match.end():])
            if named is None or cut < 0 or left[cut] not in ",\u201d\"":
                continue
            subject = _strip_subject(named.group(1))
            start = match.end()
        if len(subject.split()) > 8:
            continue
        found.append(_Clause(match.group(1), start, match.start(), match.end(), subject))
    for match in _ACCORDING.finditer(sentence):
        if _inside(spans, match.start()):
            continue
        named = re.match(r"\s+([^,.;:\u201c\u201d\"]+)", sentence[match.end():])
        if named:
            subject = _strip_subject(named.group(1))
            found.append(_Clause("according to", match.start(), match.start(), match.end(),
                                 subject, according=True))
    found.sort(key=lambda c: c.verb_start)
    for i, clause in enumerate(found):
        end = max(found[i + 1].start if i + 1 < len(found) else len(sentence), clause.verb_end)
        after = sentence[clause.verb_end:end]
        before = sentence[:clause.start]
        if clause.start >= clause.verb_end:  # "\u201c...,\u201d said Mr. Jones"
            windows = [(0, clause.verb_start)]
        elif clause.according:
            windows = [(0, clause.start),
                       (min(clause.verb_end + len(clause.subject) + 1, len(sentence)),
                        len(sentence))]
        elif re.match(r"\s*(?::|\u201c|\"|that\b)", after) or len(before.split()) < 3:
            windows = [(clause.verb_end, end)]
        elif before.rstrip().endswith((",", "\u201d", '"')):
            windows = [(0, clause.start)]  # "..., he has said" and "\u201c...,\u201d he added"
        else:
            windows = [(clause.verb_end, end)]
        clause.windows = windows
        clause.content = " ".join(sentence[a:b] for a, b in windows).strip()
    return found


def _kind(clause: _Clause, sentence: str) -> tuple[str, str, Any, str | None, str | None]:
    """Type, reason, likelihood, the words used and the ICD 203 band."""
    content = clause.content
    if clause.verb in _DENY_VERBS:
        return StatementType.DENIED, f"denial verb {clause.verb!r}", None, None, None
    cue = _DENIAL_CUES.search(content)
    if cue:
        return StatementType.DENIED, f"denial cue {cue.group(0)!r}", None, None, None
    words = _LIKELIHOOD.search(content)
    if words:
        phrase = re.sub(r"[\s-]+", " ", words.group(1))
        term = parse_likelihood(phrase).term
        why = f"likelihood words {phrase!r} (ICD 203: {term})"
        return StatementType.ASSESSED, why, phrase, phrase, term
    for pattern, probability, why in _HEDGES:
        hedge = pattern.search(content)
        if hedge:
            phrase = re.sub(r"\s+", " ", hedge.group(0))
            term = parse_likelihood(probability).term
            return StatementType.ASSESSED, f"hedge {phrase!r}: {why}", probability, phrase, term
    if clause.verb in _ASSESS_VERBS:
        why = f"assessment verb {clause.verb!r} (no likelihood words: add one)"
        return StatementType.ASSESSED, why, None, None, None
    verb = "'according to'" if clause.according else f"attribution verb {clause.verb!r}"
    return StatementType.ASSERTED, verb, None, None, None


# --- the whole article --------------------------------------------------------------------

def draft(
    text: str, published: date, sources: Sequence[KnownSource] = (),
) -> list[Proposal]:
    """Proposed statements from an article's text, its dates read against ``published``."""
    dates = _Dates(published)
    book = _Sources(sources)
    book.names = full_names(text[:MAX_ARTICLE])
    proposals: list[Proposal] = []
    previous_date: _When | None = None
    last_speaker: tuple[str, str, NewSource | None, str] | None = None
    for index, sentence in enumerate(sentences(text[:MAX_ARTICLE]), start=1):
        spans = _quoted_spans(sentence)
        sentence_date = dates.read(sentence, spans)
        clauses = _clauses(sentence)
        for clause in clauses:
            speakers = _speakers(clause, sentence, book, last_speaker)
            if not speakers:
                continue
            kind, why, likelihood, phrase, term = _kind(clause, sentence)
            when = _statement_date(dates, sentence, spans, clause, single=len(clauses) == 1)
            for speaker in speakers:
                speaker_when = when
                if speaker_when is None and previous_date is not None and \
                        _ANAPHORIC_DATE.search(sentence):
                    speaker_when = replace(previous_date, basis=(
                        "the previous sentence's date, which this one points back to: "
                        + previous_date.basis))
                if speaker_when is None and (clause.verb in _CONTINUATION_VERBS
                                             or clause.subject.casefold() in _PRONOUNS):
                    earlier = next((p for p in reversed(proposals) if p.source == speaker[0]),
                                   None)
                    if earlier is not None:
                        speaker_when = _When(earlier.occurred_at, earlier.date_precision,
                                             f"the speaker's previous statement (sentence "
                                             f"{earlier.index}): {earlier.date_basis}",
                                             earlier.dated)
                if speaker_when is None:
                    speaker_when = dates.fallback()
                quote = _quotation(clause.content) or sentence
                proposals.append(Proposal(
                    source=speaker[0], source_name=speaker[1], new_source=speaker[2],
                    type=kind, occurred_at=speaker_when.day,
                    date_precision=speaker_when.precision, date_basis=speaker_when.basis,
                    sentence=sentence, quote=quote,
                    reason=f"{why}; source: {speaker[3]}",
                    likelihood=likelihood, likelihood_phrase=phrase, likelihood_term=term,
                    index=index, dated=speaker_when.dated,
                ))
            last_speaker = speakers[-1] if len(speakers) == 1 else last_speaker
        if sentence_date is not None:
            previous_date = sentence_date
    return _fold_leads(proposals)


#: Words that name the occasion of a statement: a date after them is when it was said.
_OCCASION = re.compile(
    r"\b(?:speaking|addressing|in\s+(?:his|her|their|its|a|an|the)\s+(?:\w+\s+){0,3}?"
    r"(?:remarks|statement|interview|message|address|speech|briefing|post)|at\s+(?:a|an|the)"
    r"\s+(?:\w+\s+){0,3}?(?:briefing|conference|meeting|summit|audit|hearing|session))\b",
    re.IGNORECASE,
)
#: How far after its verb a date phrase still dates the saying ("said in a statement on
#: Sunday"); further on, in what was said, a date is the date of what it is about.
_NEAR_VERB = 30


def _statement_date(
    dates: _Dates, sentence: str, spans: Sequence[tuple[int, int]], clause: _Clause,
    single: bool,
) -> _When | None:
    """When the clause's statement was made: a date phrase by the attribution ("Peskov on
    Thursday dismissed", "said last week"); one after words naming the occasion ("speaking
    at the audit on Tuesday"); in a sentence of one statement, one in its framing ("In his
    video message on Sunday, the president said"). Never one inside what was said ("said
    the troops arrived in June": June dates the arrival)."""
    near = (min(clause.start, clause.verb_start),
            max(clause.verb_end, clause.start) + _NEAR_VERB)
    found = dates.read(sentence, spans, [near])
    if found is not None:
        return found
    for occasion in _OCCASION.finditer(sentence):
        if not _inside(spans, occasion.start()):
            found = dates.read(sentence, spans, [(occasion.end(), occasion.end() + 120)])
            if found is not None:
                return found
    if single:
        framing = [(a, b) for a, b in _gaps(clause.windows, len(sentence))]
        return dates.read(sentence, spans, framing)
    return None


def _gaps(windows: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """The parts of ``[0, length)`` outside the windows."""
    gaps, at = [], 0
    for start, end in sorted(windows):
        if start > at:
            gaps.append((at, start))
        at = max(at, end)
    if at < length:
        gaps.append((at, length))
    return gaps


def _speakers(
    clause: _Clause, sentence: str, book: _Sources,
    last: tuple[str, str, NewSource | None, str] | None,
) -> list[tuple[str, str, NewSource | None, str]]:
    subject = clause.subject
    folded = _fold(subject)
    if not folded or folded in _NOT_SUBJECTS:
        return []
    if folded in _PRONOUNS:
        if last is None:
            return []
        return [(last[0], last[1], last[2], f"{subject!r}: the last speaker, {last[1]}")]
    collective = _COLLECTIVE.search(subject)
    if collective:
        named = _countries_in(sentence[:clause.start])[:2]
        if len(named) == 2:
            found = [(*book.government(code)[:3],
                      f"{collective.group(0)!r}: {book.government(code)[3]}") for code in named]
            for speaker in found:
                if speaker[2] is not None:
                    book.adopt(speaker[2])
            return found
        return []
    matched = book.match(subject)
    if matched is not None:
        source, how = matched
        if source.id in book.proposed:
            return [(source.id, source.name, book.proposed[source.id],
                     f"the new source proposed above, by {how}")]
        return [(source.id, source.name, None, f"known source by {how}")]
    countries = _countries_in(subject)
    if countries and _fold(_COUNTRY.sub("", _plain(subject))).strip() in ("", "the"):
        found = [book.government(countries[0])]
    else:
        found = _new_source(subject, countries, book.names)
    for speaker in found:
        if speaker[2] is not None:
            book.adopt(speaker[2])
    return found


_NAME_RUN = re.compile(r"\b[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)+")


def full_names(text: str) -> dict[str, tuple[str, str | None, str | None]]:
    """Full names the text gives, by their last word: "Russian President Vladimir Putin"
    gives "putin" -> ("Vladimir Putin", "Russian President", "RU"); a last word two names
    share is left out (a person decides)."""
    found: dict[str, tuple[str, str | None, str | None]] = {}
    shared: set[str] = set()
    for match in _NAME_RUN.finditer(_plain(text)):
        words = match.group(0).split()
        titled = [i for i, w in enumerate(words[:-1]) if w.casefold() in _TITLES]
        role = " ".join(words[:titled[-1] + 1]) if titled else None
        name = words[titled[-1] + 1:] if titled else words
        if len(name) < 2 or any(w.endswith("'s") for w in name) or \
                _COUNTRY.search(" ".join(name)):
            continue
        key = name[-1].casefold()
        countries = _countries_in(role or "")
        entry = (" ".join(name), role, countries[0] if countries else None)
        if key in found and found[key][0] != entry[0]:
            shared.add(key)
        found.setdefault(key, entry)
    return {k: v for k, v in found.items() if k not in shared}


def _new_source(
    subject: str, countries: list[str],
    names: Mapping[str, tuple[str, str | None, str | None]] | None = None,
) -> list[tuple[str, str, NewSource | None, str]]:
    words = _plain(subject).split()
    # The name: the trailing run of capitalised words ("Defence Minister Kim Yong-hyun" ->
    # its last words after a lower-case title); else a common noun phrase ("officials").
    run: list[str] = []
    for word in reversed(words):
        if word[:1].isupper() or (run and word.casefold() in {"of", "for", "and"}):
            run.insert(0, word)
        else:
            break
    while run and run[0].casefold() in {"of", "for", "and"}:
        run.pop(0)
    title = words[:len(words) - len(run)]
    run = [w for w in run if not re.fullmatch(_HONORIFIC, w)]
    titled = [i for i, w in enumerate(run[:-1]) if w.casefold() in _TITLES]
    if titled:  # "Defence Minister Tomas Lind": the title is a role, not the name
        title, run = [*title, *run[:titled[-1] + 1]], run[titled[-1] + 1:]
    if run and all(_CODE_OF.get(w.casefold()) or w.casefold() == "the" for w in
                   _COUNTRY.sub("", " ".join(run)).split() or ["the"]):
        run, title = words, []  # "officials in Kyiv": the whole phrase names them
    owner = next((i for i, w in enumerate(run) if w.endswith("'s")), None)
    if owner is not None and owner + 1 < len(run):  # "Britain's Ministry of Defence"
        country = _CODE_OF.get(" ".join(run[:owner + 1])[:-2].casefold())
        if country:
            run = [*run[owner + 1:], f"({COUNTRIES[country][0].removeprefix('the ')})"]
    if run:
        name = " ".join(run)
        name = name[:1].upper() + name[1:]
        role = " ".join(w for w in title if w.casefold() not in _DETERMINERS) or None
    else:
        if len(words) > 4 or not words or (words[0].casefold() not in _DETERMINERS
                                           and not _CODE_OF.get(words[0].casefold())):
            return []  # "officials" needs a determiner; "British intelligence" a country
        name = " ".join(w for w in words if w.casefold() not in {"the", "a", "an"})
        name = name[:1].upper() + name[1:]
        role = None
    if name.casefold() in _NOT_SUBJECTS or not re.search(r"[A-Za-z]{2}", name):
        return []
    if names and len(name.split()) == 1 and name.casefold() in names:  # "Putin"
        name, given_role, country = names[name.casefold()]
        role = role or given_role
        countries = countries or ([country] if country else [])
    new = NewSource(_slug(name), name, role, countries[0] if countries else None)
    return [(new.id, new.name, new, f"not a known source: proposed as new ({name!r})")]


def _fold_leads(proposals: list[Proposal]) -> list[Proposal]:
    """An undated statement of a source quoted elsewhere with a date, of the same type, is
    the article telling it twice: it is folded into the first dated one."""
    dated: dict[tuple[str, str], int] = {}
    for number, proposal in enumerate(proposals):
        if proposal.dated:
            dated.setdefault((proposal.source, proposal.type), number)
    told: dict[int, list[int]] = {}
    kept: list[int] = []
    for number, proposal in enumerate(proposals):
        twin = dated.get((proposal.source, proposal.type))
        if not proposal.dated and twin is not None:
            told.setdefault(twin, []).append(proposal.index)
        else:
            kept.append(number)
    return [
        replace(proposals[n], reason=proposals[n].reason + "; also told undated in sentence "
                + ", ".join(map(str, told[n]))) if n in told else proposals[n]
        for n in kept
    ]


# --- the use case -------------------------------------------------------------------------

def article_date(value: object) -> date:
    """The article's date: a date, or an RFC 3339 time (its calendar day as written), not
    in the future. A refusal names the field ``date``."""
    moment = parse_instant("date", value, bare_date="start")
    if moment > now() + timedelta(days=1):
        raise InvalidInput("date", "is in the future: give the article's publication date")
    if isinstance(value, str):
        return date.fromisoformat(value.strip()[:10])
    return moment.date()


def draft_article(
    ledger: ClaimsLedger, text: str, published: object, claim_id: str | None = None,
    reference: str | None = None,
) -> dict[str, Any]:
    """Proposals for an article, matched against every registered source; nothing written.

    ``claim_id``, if given, must name a registered claim (``NotFound`` otherwise): the
    proposals' ``event`` bodies are then ready for ``POST /events/batch`` with it."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text", "must not be empty: paste the article's text")
    if len(text) > MAX_ARTICLE:
        raise InvalidInput("text", f"is longer than {MAX_ARTICLE} characters: split it")
    day = article_date(published)
    reference = check_reference(reference)  # the statements' own rule: a batch would refuse it
    if claim_id is not None:
        ledger.claim(slug("claim_id", claim_id))  # NotFound: an unknown claim
    records: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = ledger.list_sources(limit=1000, cursor=cursor)
        records += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    proposals = draft(text, day, known_sources(records))
    new: dict[str, dict[str, Any]] = {}
    for proposal in proposals:
        if proposal.new_source is not None:
            new.setdefault(proposal.new_source.id, proposal.new_source.as_dict())
    answered = []
    for proposal in proposals:
        item = proposal.as_dict()
        event = proposal.event(reference)
        item["event"] = {"claim_id": claim_id, **event} if claim_id is not None else event
        answered.append(item)
    return {
        "date": day.isoformat(),
        "claim_id": claim_id,
        "reference": reference,
        "count": len(answered),
        "proposals": answered,
        "new_sources": list(new.values()),
    }
