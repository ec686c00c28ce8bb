#!/usr/bin/env python3
"""Realistic benchmark records for `tern device record import`: N records of the
pre-departure form (`pda`), each with about ANSWERS answers of varied, plausible
values (choices from the form's lists, numbers, dates, short texts) and a subject
with a name, sex and date of birth. Seeded, so runs are comparable.

Usage: python3 scripts/bench-records.py N [ANSWERS] > records.jsonl
"""
import json
import random
import sys
from pathlib import Path

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ANSWERS = int(sys.argv[2]) if len(sys.argv) > 2 else 120
FORM = json.loads((Path(__file__).resolve().parent.parent / "schemas/forms/pda.json").read_text())
LISTS = FORM["choice_lists"]
COUNTRIES = ["AF", "SY", "ER", "SO", "UA", "IQ", "SD", "YE", "PK", "BD", "NG", "ET"]
GIVEN = ["Amina", "Mohammed", "Fatima", "Yusuf", "Olena", "Dawit", "Hamid", "Leila",
         "Omar", "Mariam", "Abdi", "Sara", "Tesfaye", "Iryna", "Ali", "Noor"]
FAMILY = ["Haidari", "Mahmoud", "Tesfay", "Kovalenko", "Ahmadi", "Hassan", "Abdullahi",
          "Rahimi", "Bondarenko", "Mohammadi", "Osman", "Karimi"]
WORDS = ["cough", "fever", "none", "mild", "reported", "resolved", "follow-up", "left",
         "right", "referred", "normal", "treated", "2 weeks", "since childhood"]
SKIP_TYPES = {"calculate", "repeat", "note"}
SKIP_IDS = {"encounter_id", "form_version", "site_id", "device_id", "family_name",
            "given_name", "sex", "date_of_birth", "dob_precision"}


def fields(items):
    for f in items:
        if f.get("type") == "group":
            yield from fields(f.get("fields", []))
        else:
            yield f


# Fields picked from the site's accounts (`choices_from`) take an account's name, which
# a benchmark store does not have: left out, like the fields the store fills itself.
CANDIDATES = [f for s in FORM["sections"] for f in fields(s["fields"])
              if f.get("type") not in SKIP_TYPES and f["id"] not in SKIP_IDS
              and f.get("source") not in ("context", "subject")
              and "choices_from" not in f]


def value(f, rng):
    t = f["type"]
    if t in ("select_one", "select_multiple"):
        lst = LISTS.get(f.get("choices"), [])
        codes = COUNTRIES if isinstance(lst, dict) else [c["code"] for c in lst]
        if not codes:
            return None
        if t == "select_one":
            return rng.choice(codes)
        return rng.sample(codes, k=min(len(codes), rng.randint(1, 2)))
    if t == "boolean":
        return rng.random() < 0.3
    if t == "integer":
        return rng.randint(f.get("min", 0) or 0, min(f.get("max", 120) or 120, 120))
    if t == "decimal":
        return round(rng.uniform(1, 100), 1)
    if t == "date":
        return f"20{rng.randint(15, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if t == "datetime":
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
    if t == "text":
        return " ".join(rng.sample(WORDS, k=rng.randint(1, 3)))
    return None


def main():
    rng = random.Random(7)
    for _ in range(N):
        rec = {
            "given_name": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILY),
            "sex": rng.choice(["female", "male"]),
            "date_of_birth": f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        for f in rng.sample(CANDIDATES, k=min(ANSWERS, len(CANDIDATES))):
            v = value(f, rng)
            if v is not None:
                rec[f["id"]] = v
        print(json.dumps(rec, ensure_ascii=False))


main()
