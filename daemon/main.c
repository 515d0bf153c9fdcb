/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mlskeyd: the entry point of all three processes.
 *
 *   mlskeyd --session | --system [--state-dir DIR] [--config FILE]
 *           [--bus-address ADDR] [--foreground] [--log-level N]
 *       the broker (the process the service manager starts; it never
 *       forks into the background: --foreground is accepted for scripts)
 *   mlskeyd --engine | --vault --seccomp MODE --log-level N
 *       internal: the children, re-executed by the broker with their
 *       sockets at fds 3 and 4 (engine: broker, vault; vault: engine,
 *       state directory)
 */
#include "config.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/broker.h"
#include "daemon/admin.h"
#include "daemon/engine.h"
#include "daemon/keystore.h"
#include "daemon/log.h"
#include "daemon/vault.h"

static void
usage(FILE *f)
{
        fputs("Usage: mlskeyd --session|--system [--state-dir DIR] [--config FILE]\n"
              "               [--bus-address ADDRESS] [--foreground] [--log-level 3..7]\n"
              "\n"
              "  --session          serve the session bus (state: $XDG_DATA_HOME/mlskeyd)\n"
              "  --system           serve the system bus (state: /var/lib/mlskeyd)\n"
              "  --state-dir DIR    the state directory\n"
              "  --config FILE      the policy (default " MKD_POLICY_PATH ")\n"
              "  --bus-address ADDR connect to this bus instead (tests)\n"
              "  --foreground       accepted; mlskeyd always stays in the foreground\n"
              "  --log-level N      3 errors .. 7 debug (default 6)\n"
              "\n"
              "Administration of the storage key (the daemon must be stopped; normally\n"
              "run through `mlskeyctl tpm`), with --session/--system/--state-dir and\n"
              "--config as above:\n"
              "  --tpm-admin status                 where the storage key is\n"
              "  --tpm-admin enroll                 seal it to the TPM ([tpm] tcti, pcrs);\n"
              "                                     prints a new recovery key ONCE\n"
              "  --tpm-admin unenroll [--recovery-key FILE]\n"
              "                                     move it back to a key file\n"
              "  --tpm-admin recover --recovery-key FILE\n"
              "                                     re-seal after the PCRs changed\n",
              f);
}

int
main(int argc, char **argv)
{
        enum {
                O_ENGINE = 256, O_VAULT, O_SECCOMP, O_LOG, O_STATE, O_CONFIG, O_BUS, O_TPM_MODE,
                O_TPM_TCTI, O_TPM_PCRS, O_TPM_ADMIN, O_RECOVERY,
        };
        static const struct option opts[] = {
                { "session", no_argument, NULL, 'S' },
                { "system", no_argument, NULL, 'Y' },
                { "state-dir", required_argument, NULL, O_STATE },
                { "config", required_argument, NULL, O_CONFIG },
                { "bus-address", required_argument, NULL, O_BUS },
                { "foreground", no_argument, NULL, 'f' },
                { "log-level", required_argument, NULL, O_LOG },
                { "engine", no_argument, NULL, O_ENGINE },
                { "vault", no_argument, NULL, O_VAULT },
                { "seccomp", required_argument, NULL, O_SECCOMP },
                { "tpm-mode", required_argument, NULL, O_TPM_MODE },
                { "tpm-tcti", required_argument, NULL, O_TPM_TCTI },
                { "tpm-pcrs", required_argument, NULL, O_TPM_PCRS },
                { "tpm-admin", required_argument, NULL, O_TPM_ADMIN },
                { "recovery-key", required_argument, NULL, O_RECOVERY },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        struct mkd_broker_options bo = { .bus = MKD_BUS_SESSION, .log_level = MKD_LOG_INFO };
        enum mkd_seccomp_mode seccomp = MKD_SECCOMP_ENFORCE;
        struct mkd_tpm_config tpm = { .mode = MKD_TPM_OFF, .tcti = "device:/dev/tpmrm0" };
        const char *admin = NULL, *recovery = NULL;
        int role = 0, bus_given = 0, c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'S':
                        bo.bus = MKD_BUS_SESSION;
                        bus_given++;
                        break;
                case 'Y':
                        bo.bus = MKD_BUS_SYSTEM;
                        bus_given++;
                        break;
                case O_STATE:
                        bo.state_dir = optarg;
                        break;
                case O_CONFIG:
                        bo.config = optarg;
                        break;
                case O_BUS:
                        bo.bus_address = optarg;
                        break;
                case 'f':
                        break;
                case O_LOG:
                        bo.log_level = atoi(optarg);
                        if (bo.log_level < MKD_LOG_ERR || bo.log_level > MKD_LOG_DEBUG) {
                                fprintf(stderr, "mlskeyd: --log-level must be 3..7\n");
                                return 2;
                        }
                        break;
                case O_ENGINE:
                case O_VAULT:
                        role = c;
                        break;
                case O_SECCOMP:
                        if (strcmp(optarg, "enforce") == 0)
                                seccomp = MKD_SECCOMP_ENFORCE;
                        else if (strcmp(optarg, "log") == 0)
                                seccomp = MKD_SECCOMP_LOG;
                        else
                                return 2;
                        break;
                case O_TPM_MODE:
                        if (strcmp(optarg, "off") == 0)
                                tpm.mode = MKD_TPM_OFF;
                        else if (strcmp(optarg, "prefer") == 0)
                                tpm.mode = MKD_TPM_PREFER;
                        else if (strcmp(optarg, "require") == 0)
                                tpm.mode = MKD_TPM_REQUIRE;
                        else
                                return 2;
                        break;
                case O_TPM_TCTI:
                        tpm.tcti = optarg;
                        break;
                case O_TPM_PCRS: {
                        unsigned bank = 0, mask = 0;

                        if (sscanf(optarg, "%u:%x", &bank, &mask) != 2 ||
                            bank > MKD_PCR_BANK_SHA512 || mask > 0xffffff ||
                            (bank == MKD_PCR_BANK_NONE) != (mask == 0))
                                return 2;
                        tpm.pcr_bank = (enum mkd_pcr_bank)bank;
                        tpm.pcr_mask = mask;
                        break;
                }
                case O_TPM_ADMIN:
                        admin = optarg;
                        break;
                case O_RECOVERY:
                        recovery = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        puts(PACKAGE_STRING);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc || bus_given > 1) {
                usage(stderr);
                return 2;
        }
        mkd_log_set_level((enum mkd_log_level)bo.log_level);
        if (sodium_init() < 0) {
                mkd_log_err("libsodium cannot be initialised");
                return 1;
        }
        if (role == O_ENGINE) {
                r = mkd_engine_main(3, 4, seccomp);
                _exit(r < 0 ? 1 : 0);
        }
        if (role == O_VAULT) {
                r = mkd_vault_main(3, 4, seccomp, &tpm);
                /* A refused storage key: the broker must not restart us. */
                if (r == MLS_E_TPM || r == MLS_E_TPM_POLICY || r == MLS_E_BAD_CONFIG ||
                    r == MLS_E_ROLLBACK || r == MLS_E_INSECURE_FILE || r == MLS_E_BAD_STATE)
                        _exit(MKD_EXIT_CONFIG);
                _exit(r < 0 ? 1 : 0);
        }
        if (admin)
                return mkd_admin_main(admin, &bo, recovery);
        if (!bus_given) {
                usage(stderr);
                return 2;
        }
        return mkd_broker_main(&bo);
}
