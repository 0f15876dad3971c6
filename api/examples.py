"""OpenAPI examples, taken from the article that started the project.

A news article of mid-October 2024 on North Korean troops for Russia, as entered in the
shipped example data, ``ledger/data/article-nk-russia.ndjson`` (walked through in
``docs/time.md`` and ``docs/credibility-model.md``). Each request example is accepted by
the ledger as it stands (``tests/api/test_openapi.py`` posts every one), except
retractions and corrections, which need the id of an event already recorded.
"""

from __future__ import annotations

from typing import Any

CLAIM_ID = "nk-troops-for-russia"

SOURCES: dict[str, dict[str, Any]] = {
    "zelensky": {
        "summary": "Ukraine's president, who made the claim",
        "value": {
            "id": "zelensky",
            "name": "Volodymyr Zelensky",
            "role": "President of Ukraine",
            "affiliation": "UA",
            "reliability": "C",
        },
    },
    "peskov": {
        "summary": "The Kremlin's spokesman, who denied it",
        "value": {
            "id": "peskov",
            "name": "Dmitry Peskov",
            "role": "Kremlin spokesman",
            "affiliation": "RU",
            "reliability": "D",
        },
    },
    "kr-nis": {
        "summary": "South Korea's intelligence service",
        "value": {
            "id": "kr-nis",
            "name": "National Intelligence Service (South Korea)",
            "role": "intelligence service",
            "affiliation": "KR",
            "reliability": "B",
        },
    },
    "kim-yong-hyun": {
        "summary": "South Korea's defence minister: of his country and of its government",
        "value": {
            "id": "kim-yong-hyun",
            "name": "Kim Yong-hyun",
            "role": "Minister of National Defense (South Korea)",
            "affiliations": ["KR", "KR-GOV"],
            "reliability": "B",
        },
    },
}

RATINGS: dict[str, dict[str, Any]] = {
    "rerate": {
        "summary": "A new rating, effective from a date",
        "value": {
            "reliability": "B",
            "occurred_at": "2024-10-14",
            "note": "re-rated by the desk after review of its record",
        },
    },
}

CLAIMS: dict[str, dict[str, Any]] = {
    "troops": {
        "summary": "Zelensky's claim, phrased as an allegation against its parties",
        "value": {
            "id": CLAIM_ID,
            "text": "North Korea is sending troops to fight for Russia in Ukraine",
            "tags": ["north-korea", "russia", "ukraine", "troops"],
            "parties": ["RU", "KP"],
            "beneficiaries": ["UA"],
        },
    },
    "server-id": {
        "summary": "No id: the server makes a UUID",
        "value": {
            "text": "North Korea is supplying arms to Russia for its war in Ukraine",
            "tags": ["north-korea", "russia", "arms"],
            "parties": ["KP", "RU"],
        },
    },
}

EVENTS: dict[str, dict[str, Any]] = {
    "asserted": {
        "summary": "Zelensky asserts it (daily video message, Sunday 13 October 2024)",
        "value": {
            "type": "asserted",
            "source": "zelensky",
            "occurred_at": "2024-10-13T18:00:00Z",
            "evidence": "named-official",
            "quote": "It is no longer just about transferring weapons. It is actually about "
            "transferring people from North Korea to the occupying military forces.",
        },
    },
    "denied": {
        "summary": "The Kremlin calls it 'another hoax' (Thursday 10 October 2024)",
        "value": {
            "type": "denied",
            "source": "peskov",
            "occurred_at": "2024-10-10",
            "quote": "another hoax",
        },
    },
    "assessed-number": {
        "summary": "The NIS: the claim 'could be accurate', read as 0.6",
        "value": {
            "type": "assessed",
            "source": "kr-nis",
            "occurred_at": "2024-10-08",
            "likelihood": 0.6,
            "likelihood_phrase": "could be accurate",
            "summary": "The NIS is monitoring developments and believes the claim could be "
            "accurate.",
        },
    },
    "assessed-words": {
        "summary": "Kim Yong-hyun: 'highly likely' (an ICD 203 synonym of 'very likely')",
        "value": {
            "type": "assessed",
            "source": "kim-yong-hyun",
            "occurred_at": "2024-10-08",
            "likelihood": "highly likely",
            "quote": "highly likely that the reported casualties of North Korean officers and "
            "soldiers in Ukraine are true, given various circumstances",
            "reference": "https://example.org/reports/nk-troops-2024-10-14",
        },
    },
}

RETRACTION = {
    "summary": "A source withdraws its own earlier statement (supersedes: that event's id)",
    "value": {
        "type": "retracted",
        "source": "peskov",
        "occurred_at": "2024-10-20",
        "supersedes": "2c5d6ec8-3eee-4068-80d9-9371bc37dd78",
        "note": "placeholder event id: use the event_id the denial was given",
    },
}

BATCH: list[dict[str, Any]] = [
    {
        "claim_id": "nk-arms-for-russia",
        "type": "asserted",
        "source": "accusing-governments",
        "occurred_at": "2024-10-14",
        "summary": "Multiple governments have accused Pyongyang of supplying arms to Moscow.",
    },
    {
        "claim_id": "nk-arms-for-russia",
        "type": "denied",
        "source": "ru-government",
        "occurred_at": "2024-10-14",
        "summary": "Russia has denied that North Korea supplies it with arms.",
    },
]
