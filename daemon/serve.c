/* SPDX-License-Identifier: Apache-2.0 */
/* Accepting an inter-process request (contracts: serve.h). */
#include "config.h"

#include "daemon/serve.h"

#include "daemon/log.h"

int
mkd_serve_accept(const struct mkd_ipc_frame *f, struct mkd_op_gate *gate,
                 const struct mkd_op *(*lookup)(uint16_t op), uint16_t end_loading,
                 const char *peer, struct mkd_ipc_request *ret_req, const struct mkd_op **ret_op,
                 struct mkd_val *args)
{
        const struct mkd_op *op;
        int r = mkd_ipc_request_parse(f->data, f->len, ret_req);

        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "malformed request from the %s", peer);
                return r;
        }
        op = mkd_op_gate_check(gate, lookup(ret_req->op), end_loading);
        if (!op) {
                mkd_log_err("op %u not allowed now: the %s is presumed compromised", ret_req->op,
                            peer);
                return MLS_E_INVALID_MESSAGE;
        }
        r = mkd_proto_decode(op->args, ret_req->args, ret_req->args_len, args);
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "malformed arguments of %s", op->name);
                return r;
        }
        *ret_op = op;
        return 0;
}
