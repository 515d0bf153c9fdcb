#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Extracts the seed corpora of the message fuzz targets from the
working-group vectors (tests/vectors/*.json):

  corpus/mlsmessage/  MLSMessages of every wire format (messages.json,
                      message-protection.json)
  corpus/keypackage/  MLSMessage-wrapped and bare KeyPackages
                      (messages.json, welcome.json, passive-client-welcome.json)
  corpus/welcome/     Welcomes, GroupInfos, GroupSecrets and ratchet trees
                      (messages.json, welcome.json, passive-client-welcome.json)

Usage: tests/fuzz/make-corpus.py [TOP_SRCDIR]. Replaces the three folders.
A few cases per suite keep each corpus to tens of files and well under 1 MB.
"""
import json
import os
import shutil
import sys

top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
vec = os.path.join(top, "tests", "vectors")
out = os.path.join(top, "tests", "fuzz", "corpus")


def load(name):
    with open(os.path.join(vec, name)) as f:
        return json.load(f)


corpora = {"mlsmessage": {}, "keypackage": {}, "welcome": {}}


def add(target, name, hexstr):
    if hexstr:
        corpora[target][name] = bytes.fromhex(hexstr)


messages = load("messages.json")
# Cases 0-99 are suite 1, 100-199 suite 3, 200-299 suite 2.
for i in (0, 100, 200):
    c = messages[i]
    for f in ("mls_welcome", "mls_group_info", "mls_key_package",
              "public_message_application", "public_message_proposal",
              "public_message_commit", "private_message"):
        add("mlsmessage", "messages-%03d-%s" % (i, f), c[f])
    add("keypackage", "messages-%03d-mls_key_package" % i, c["mls_key_package"])
    # add_proposal is a bare Add, i.e. a bare KeyPackage
    add("keypackage", "messages-%03d-add_proposal" % i, c["add_proposal"])
    for f in ("mls_welcome", "mls_group_info", "group_secrets", "ratchet_tree"):
        add("welcome", "messages-%03d-%s" % (i, f), c[f])

for c in load("message-protection.json"):
    if c["cipher_suite"] in (1, 2, 5):
        for f in ("proposal_pub", "proposal_priv", "commit_pub", "commit_priv",
                  "application_priv"):
            add("mlsmessage", "protection-suite%d-%s" % (c["cipher_suite"], f), c[f])

for c in load("welcome.json"):
    s = c["cipher_suite"]
    add("keypackage", "welcome-suite%d-key_package" % s, c["key_package"])
    add("welcome", "welcome-suite%d-welcome" % s, c["welcome"])

passive = load("passive-client-welcome.json")
# one case with the tree in the GroupInfo, one with a separate tree, for
# suites 1 and 2 (the larger suites only add size)
seen = set()
for i, c in enumerate(passive):
    s = c["cipher_suite"]
    kind = "tree" if c["ratchet_tree"] else "notree"
    if s not in (1, 2) or (s, kind) in seen:
        continue
    seen.add((s, kind))
    add("keypackage", "passive-%02d-key_package" % i, c["key_package"])
    add("welcome", "passive-%02d-welcome" % i, c["welcome"])
    add("welcome", "passive-%02d-ratchet_tree" % i, c["ratchet_tree"])

for target, files in corpora.items():
    d = os.path.join(out, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in sorted(files.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%s: %d files, %d bytes" % (target, len(files), sum(len(v) for v in files.values())))
