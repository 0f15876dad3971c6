"""The ledger in other tools' formats: STIX 2.1 and TAXII 2.1 for intelligence platforms,
schema.org ClaimReview for fact-checkers.

Each format is written and read through the library that owns it (``stix2``, validated
with ``stix2-validator`` in the tests); these modules map the ledger's records onto it and
back, over the ledger's public reads and its importer. Nothing here knows HTTP.

- ``stix_terms``: identifiers, the ledger's STIX extension, likelihood words as STIX
  confidence;
- ``stix_export``: the global log as STIX objects, a page at a time;
- ``stix_import``: a STIX bundle as statements: a plan first, then the records it appends;
- ``taxii``: the read-only TAXII 2.1 collection over the export;
- ``claimreview``: a claim's credibility as schema.org ClaimReview JSON-LD.
"""
