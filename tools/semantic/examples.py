"""Writes the labelled examples the meaning tagger learns its item prototypes from.

Run by hand from the repository root after a labelled set changes:

    python3 tools/semantic/examples.py > src/competency/semantic-examples.json

Only tests/tagging/dev-set.json and validation-set.json are used: they are the sets kept
for development. holdout-set.json and blind-set.json must never be added here, or their
figures stop being estimates of quality on unseen titles.
"""

import json
import sys

SETS = ["tests/tagging/dev-set.json", "tests/tagging/validation-set.json"]
FRAMEWORK = "src/competency/default-framework.json"


def main():
    with open(FRAMEWORK, encoding="utf-8") as f:
        iri = {i["code"]: i["iri"] for i in json.load(f)["items"] if "code" in i}
    items, off_topic = {}, []
    for path in SETS:
        with open(path, encoding="utf-8") as f:
            for entry in json.load(f):
                text = entry["title"]
                if entry["description"]:
                    text += ". " + entry["description"]
                if not entry["labels"]:
                    off_topic.append(text)
                for code in entry["labels"]:
                    items.setdefault(iri[code], []).append(text)
    out = {
        "about": "Labelled examples from " + " and ".join(SETS) + ", written by tools/semantic/examples.py",
        "items": dict(sorted(items.items())),
        "off_topic": off_topic,
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
