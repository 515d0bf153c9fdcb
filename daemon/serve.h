/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiving side of an inter-process request, shared by the engine
 * (requests of the broker) and the vault (requests of the engine): parse
 * the frame, let the op gate decide whether the op is allowed now
 * (daemon/proto.h), decode its arguments.
 */
#ifndef MKD_SERVE_H
#define MKD_SERVE_H

#include "daemon/ipc.h"
#include "daemon/proto.h"

/*
 * lookup: mkd_proto_engine_op or mkd_proto_vault_op; end_loading: the op
 * that ends the loading phase; peer: "broker" or "engine", for the log.
 * On success *ret_req (views into the frame), *ret_op and args[] are set.
 * A negative return means the peer broke the protocol (malformed frame,
 * op not allowed now, malformed arguments): it is logged here, and the
 * caller treats the peer as compromised.
 */
MLS_MUST_CHECK int mkd_serve_accept(const struct mkd_ipc_frame *f, struct mkd_op_gate *gate,
                                    const struct mkd_op *(*lookup)(uint16_t op),
                                    uint16_t end_loading, const char *peer,
                                    struct mkd_ipc_request *ret_req,
                                    const struct mkd_op **ret_op, struct mkd_val *args);

#endif
