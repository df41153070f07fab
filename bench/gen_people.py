#!/usr/bin/env python3
"""Writes synthetic staff records for Intake's benchmarks and examples.

Every record is a person as an HR system would export one: an id, a name in parts, an e-mail
address, a telephone number, a job title, a department, a start date, a web page (often written
sloppily, so the fix-up-url filter has work to do), free-text notes and a few projects. Names
and notes mix scripts and punctuation (accents, CJK, emoji, quotes, commas, tabs, line breaks),
so every reader meets the awkward cases on every run.

The output is a pure function of --seed and --count: the same arguments give the same people in
every format, so a json and a csv file made together hold the same data. The file is written as
it is generated, so millions of records need no memory to speak of. Standard library only.

  bench/gen_people.py --count 1000000 --format csv --out people.csv
  bench/gen_people.py --count 20 --format json          # to stdout

Formats: json (one top-level array), jsonl, csv (RFC 4180, CRLF, a header row), tsv (a header
row, tabs and line breaks inside values turned into spaces) and xml (<people><person>…). In the
flat formats the projects become one `project_codes` column, codes separated by semicolons.
"""
import argparse
import csv
import datetime
import json
import random
import sys
from xml.sax.saxutils import escape

COLUMNS = ("id", "title", "first", "middle", "last", "email", "phone", "job_title",
           "department_code", "start_date", "url", "notes")
FLAT_COLUMNS = COLUMNS + ("project_codes",)

GIVEN = ("Ada", "Bashir", "Carys", "Dmitri", "Eilidh", "Farah", "Gwen", "Hamza", "Ines",
         "Jürgen", "Kofi", "Léa", "Małgorzata", "Niamh", "Óscar", "Per", "Ravi", "Saoirse",
         "Thắng", "Ulla", "Wei", "Xochitl", "Yusuf", "Zoé")
MIDDLE = ("", "", "", "", "", "Jane", "R.", "Ann-Marie", "Bjørn", "Lee")
FAMILY = ("Abbott", "Ng", "O'Neill", "Rees-Mogg", "Schäfer", "Đặng", "Fernández", "Wiśniewski",
          "Ødegård", "Mehta", "Akhtar", "Sato", "Lefèvre", "McLeod", "de la Cruz", "Ní Bhriain",
          "Okafor", "Lindqvist", "Haddad", "Evans")
TITLES = ("Dr", "Prof", "Mr", "Ms", "Mx", "Mrs", "", "Dr", "Ms")
JOBS = ("Lecturer", "Senior Lecturer", "Reader", "Professor", "Research Associate",
        "Research Fellow", "Doctoral Researcher", "Laboratory Technician", "Librarian",
        "Programme Administrator", "Head of School", "Research Software Engineer")
DEPARTMENTS = tuple("DEP-%03d" % n for n in range(1, 25))
MAIL_DOMAINS = ("staff.example.ac.uk", "example.edu", "research.example.org")
# Numbers from the ranges Ofcom keeps for drama, so none of them rings anyone.
PHONES = ("+44 113 496 0%03d", "0113 496 0%03d", "+44 28 9649 6%03d", "028 9649 6%03d")
PAGES = ("https://www.example.ac.uk/staff/%s", "http://www.example.ac.uk/~%s", "example.edu/people/%s",
         "http://research.example.org/%s/", "https://example.edu/p?u=%s&lang=en")
NOTES = ("On research leave until August", "Part-time (0.6 FTE), Mondays to Wednesdays",
         'Known as "Prof. B" by students', "Runs the 量子 reading group",
         "Shares an office with Jürgen's team", "Grant holder: €1,200,000 (ERC)",
         "Line one of two\nline two of two", "Column\twith a tab", "Ask about <secure> data first",
         "Mentor & first-aider", "Loves 🧪 and ☕", "Prefers e-mail; no Teams calls")
ROLES = ("Principal Investigator", "Co-Investigator", "Researcher")
FIRST_DAY = datetime.date(1985, 1, 1)
DAYS = (datetime.date(2025, 6, 30) - FIRST_DAY).days


def plain(text):
    """A name as it appears in a login: ASCII letters only, lower case."""
    import unicodedata
    decomposed = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("đ", "d").replace("Đ", "D")
                                       .replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if c.isascii() and c.isalpha()).lower()


def people(count, seed):
    """Yields the people as dicts: COLUMNS in order, then "projects" (a list of dicts)."""
    pick = random.Random(seed)
    choose, chance = pick.choice, pick.random
    given_plain = {name: plain(name) for name in GIVEN}
    family_plain = {name: plain(name) for name in FAMILY}
    for number in range(1, count + 1):
        given, family = choose(GIVEN), choose(FAMILY)
        login = "%s.%s" % (given_plain[given], family_plain[family])
        roll = chance()
        if roll < 0.25:
            notes = ""
        elif roll < 0.85:
            notes = choose(NOTES)
        else:
            notes = choose(NOTES) + "; " + choose(NOTES)
        person = {
            "id": "S%07d" % number,
            "title": choose(TITLES),
            "first": given,
            "middle": choose(MIDDLE),
            "last": family,
            "email": "%s.%d@%s" % (login, number, MAIL_DOMAINS[number % len(MAIL_DOMAINS)]),
            "phone": choose(PHONES) % pick.randrange(1000),
            "job_title": choose(JOBS),
            "department_code": choose(DEPARTMENTS),
            "start_date": (FIRST_DAY + datetime.timedelta(days=pick.randrange(DAYS))).isoformat(),
            "url": "" if chance() < 0.15 else choose(PAGES) % login,
            "notes": notes,
            "projects": [{"code": "PROJ-%05d" % pick.randrange(20000), "role": choose(ROLES)}
                         for _ in range(pick.randrange(4))],
        }
        yield person


def flat_row(person):
    return [person[c] for c in COLUMNS] + [";".join(p["code"] for p in person["projects"])]


def write(out, fmt, records):
    pending = []

    def emit(text):
        pending.append(text)
        if len(pending) >= 2000:
            out.write("".join(pending))
            pending.clear()

    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(FLAT_COLUMNS)
        writer.writerows(flat_row(p) for p in records)
        return
    encode = json.JSONEncoder(ensure_ascii=False).encode
    if fmt == "json":
        emit("[")
        separator = "\n"
        for person in records:
            emit(separator + encode(person))
            separator = ",\n"
        emit("\n]\n")
    elif fmt == "jsonl":
        for person in records:
            emit(encode(person) + "\n")
    elif fmt == "tsv":
        emit("\t".join(FLAT_COLUMNS) + "\n")
        for person in records:
            cells = (v.replace("\t", " ").replace("\r", " ").replace("\n", " ") for v in flat_row(person))
            emit("\t".join(cells) + "\n")
    elif fmt == "xml":
        emit('<?xml version="1.0" encoding="UTF-8"?>\n<people>\n')
        for person in records:
            fields = "".join("<%s>%s</%s>" % (name, escape(value), name) if value else "<%s/>" % name
                             for name, value in zip(FLAT_COLUMNS, flat_row(person)))
            emit("<person>%s</person>\n" % fields)
        emit("</people>\n")
    out.write("".join(pending))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="how many people (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--format", choices=("json", "jsonl", "csv", "tsv", "xml"), default="json")
    parser.add_argument("--out", default="-", help="file to write (default: standard output)")
    args = parser.parse_args()
    if args.out == "-":
        sys.stdout.reconfigure(encoding="utf-8", newline="")
        write(sys.stdout, args.format, people(args.count, args.seed))
    else:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            write(out, args.format, people(args.count, args.seed))


if __name__ == "__main__":
    main()
