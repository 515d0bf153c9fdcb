/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may use an identity (and its groups): the broker's access check.
 *
 * Each identity has an owner uid and may be shared, by its owner, with
 * further uids and gids. The owner may do everything; a shared user may
 * use the identity and its groups but never delete the identity or change
 * its access; everybody else does not see it at all (the broker answers
 * NotFound exactly as for a nonexistent object). uid 0 gets no special
 * access: root can read the state directory but not use another user's
 * keys through the daemon.
 */
#ifndef MKD_ACL_H
#define MKD_ACL_H

#include "mls/common.h"

enum mkd_access {
        MKD_ACCESS_NONE = 0,
        MKD_ACCESS_SHARED = 1,
        MKD_ACCESS_OWNER = 2,
};

struct mkd_acl {
        uint32_t owner;
        const uint32_t *uids;
        size_t n_uids;
        const uint32_t *gids;
        size_t n_gids;
};

/* A caller as the bus describes it (GetConnectionCredentials). */
struct mkd_cred {
        uint32_t uid;
        const uint32_t *gids; /* supplementary and primary groups */
        size_t n_gids;
};

enum mkd_access mkd_acl_check(const struct mkd_acl *acl, const struct mkd_cred *c);

/* Sorts v[0..*n) and removes duplicates (for storing an access list). */
void mkd_acl_normalize(uint32_t *v, size_t *n);

#endif
