/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for KeyPackage decoding (mls/messages.h): the input is read
 * as an MLSMessage-wrapped KeyPackage (the form KeyPackages travel in) and,
 * independently, as a bare KeyPackage (the body of an Add proposal).
 *
 * Properties: no read outside the input, no leak, only decoding errors;
 * what decodes re-encodes to exactly the input; KeyPackageTBS is the
 * encoding minus the signature; LeafNodeTBS of the key_package leaf is the
 * leaf's encoding minus its signature.
 */
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "mls/messages.h"

static bool
decode_error_ok(int e)
{
        switch (e) {
        case MLS_E_TRUNCATED:
        case MLS_E_TRAILING:
        case MLS_E_NONMINIMAL:
        case MLS_E_BAD_VARINT:
        case MLS_E_BAD_OPTIONAL:
        case MLS_E_BAD_ENUM:
        case MLS_E_DUPLICATE_EXTENSION:
        case MLS_E_WRONG_VERSION:
        case MLS_E_INVALID_TREE:
                return true;
        default:
                return false;
        }
}

static void
check_key_package(const struct mls_key_package *kp, const uint8_t *data, size_t size)
{
        struct mls_writer w;
        struct mls_bytes out = { 0 }, leaf = { 0 };
        size_t sig;

        FUZZ_ASSERT(mls_key_package_to_bytes(kp, &out) == 0);
        FUZZ_ASSERT(out.len == size && (size == 0 || memcmp(out.data, data, size) == 0));
        mls_bytes_clear(&out);

        mls_writer_init(&w);
        FUZZ_ASSERT(mls_key_package_tbs_encode(&w, kp) == 0);
        sig = mls_varint_size(kp->signature.len) + kp->signature.len;
        FUZZ_ASSERT(w.len + sig == size && memcmp(w.buf, data, w.len) == 0);
        mls_writer_clear(&w);

        FUZZ_ASSERT(mls_leaf_node_to_bytes(&kp->leaf_node, &leaf) == 0);
        mls_writer_init(&w);
        if (kp->leaf_node.leaf_node_source == MLS_LEAF_SOURCE_KEY_PACKAGE) {
                FUZZ_ASSERT(mls_leaf_node_tbs_encode(&w, &kp->leaf_node, NULL, 0) == 0);
                sig = mls_varint_size(kp->leaf_node.signature.len) +
                      kp->leaf_node.signature.len;
                FUZZ_ASSERT(w.len + sig == leaf.len && memcmp(w.buf, leaf.data, w.len) == 0);
        } else {
                FUZZ_ASSERT(mls_leaf_node_tbs_encode(&w, &kp->leaf_node, NULL, 0) ==
                            MLS_E_INVALID_ARGUMENT);
        }
        mls_writer_clear(&w);
        mls_bytes_clear(&leaf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct mls_message m = { 0 };
        struct mls_key_package kp = { 0 };
        int e;

        if (sodium_init() < 0)
                abort();
        e = mls_message_from_bytes(data, size, &m);
        if (e == 0 && m.wire_format == MLS_WIRE_KEY_PACKAGE)
                check_key_package(&m.key_package, data + 4, size - 4);
        else if (e < 0)
                FUZZ_ASSERT(decode_error_ok(e));
        mls_message_clear(&m);

        e = mls_key_package_from_bytes(data, size, &kp);
        if (e == 0)
                check_key_package(&kp, data, size);
        else
                FUZZ_ASSERT(decode_error_ok(e));
        mls_key_package_clear(&kp);
        return 0;
}
