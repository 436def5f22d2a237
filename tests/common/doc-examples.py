#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the examples of a Markdown document and compares their output with the document's.

    doc-examples.py policies DOC DIR        writes each ```ini block whose first line is
                                            "# .../policies/NAME.conf" to DIR/NAME.conf
    doc-examples.py run DOC [FROM=TO ...]   runs each ```sh block (bash) and ```python block
                                            (python3), in order, with every FROM replaced by TO
                                            in the code and in the expected output

A code block followed by a ```text block must print exactly that (stdout and stderr together,
trailing blanks ignored); one without must exit 0. One TAP line per block, with the difference
as comments when it fails. Used by tests/integration/test-protocol-doc.sh.
"""
import os
import re
import subprocess
import sys

FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(path):
    """(language, first line number, text) of each fenced block."""
    out, lang, start, lines = [], None, 0, []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = FENCE.match(line.rstrip("\n"))
            if lang is None and m:
                lang, start, lines = m.group(1), number, []
            elif lang is not None and line.rstrip("\n") == "```":
                out.append((lang, start, "".join(lines)))
                lang = None
            elif lang is not None:
                lines.append(line)
    return out


def substitute(text, pairs):
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def normalize(text):
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def write_policies(doc, directory):
    for lang, _, text in blocks(doc):
        first = text.splitlines()[0] if text else ""
        m = re.match(r"^# \S*/policies/([A-Za-z0-9_.-]+\.conf)$", first)
        if lang == "ini" and m:
            with open(os.path.join(directory, m.group(1)), "w", encoding="utf-8") as f:
                f.write(text)
    return 0


def run(doc, pairs):
    all_blocks = blocks(doc)
    n = failed = 0
    results = []
    for i, (lang, start, text) in enumerate(all_blocks):
        if lang not in ("sh", "python"):
            continue
        expected = None
        if i + 1 < len(all_blocks) and all_blocks[i + 1][0] == "text":
            expected = substitute(all_blocks[i + 1][2], pairs)
        argv = ["bash", "-c"] if lang == "sh" else [sys.executable, "-c"]
        try:
            p = subprocess.run(argv + [substitute(text, pairs)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=60, check=False)
            got, rc = p.stdout.decode(errors="replace"), p.returncode
        except subprocess.TimeoutExpired:
            got, rc = "(timed out after 60 s)", -1
        good = normalize(got) == normalize(expected) if expected is not None else rc == 0
        n += 1
        first = text.strip().splitlines()[0][:60] if text.strip() else ""
        results.append(f"{'ok' if good else 'not ok'} {n} - {os.path.basename(doc)} line {start}: {lang}: {first}")
        if not good:
            failed += 1
            results.append(f"#   exit {rc}; printed:")
            results += ["#     " + line for line in got.rstrip().splitlines()]
            if expected is not None:
                results.append("#   the document says:")
                results += ["#     " + line for line in expected.rstrip().splitlines()]
    print("\n".join(results))
    return n, failed


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "policies":
        return write_policies(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 3 and sys.argv[1] == "run":
        pairs = [tuple(arg.split("=", 1)) for arg in sys.argv[3:]]
        n, failed = run(sys.argv[2], pairs)
        print(f"# {n} examples, {failed} failed")
        return 1 if failed or n == 0 else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
