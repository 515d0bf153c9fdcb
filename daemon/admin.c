/* SPDX-License-Identifier: Apache-2.0 */
/* `mlskeyd --tpm-admin` (contracts: admin.h). */
#include "config.h"

#include "daemon/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <sodium.h>

#include "daemon/fileio.h"
#include "daemon/keystore.h"
#include "daemon/log.h"
#include "daemon/policy.h"
#include "daemon/seal.h"
#ifdef HAVE_TPM
#include "daemon/tpm.h"
#endif

/* The recovery key from a file ("-": stdin), read with read(2) into a
 * wiped stack buffer (stdio would keep a copy in its own buffer). */
static int
read_recovery(const char *path, uint8_t key[MKD_RECOVERY_KEY_LEN])
{
        char text[256];
        size_t n = 0;
        int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0) {
                mkd_log_err("%s: cannot open: %s", path, strerror(errno));
                return MLS_E_STORAGE;
        }
        while (n < sizeof(text) - 1) {
                ssize_t k = read(fd, text + n, sizeof(text) - 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        if (fd != STDIN_FILENO)
                close(fd);
        r = mkd_recovery_key_parse(text, n, key);
        sodium_memzero(text, sizeof(text));
        if (r < 0)
                mkd_log_err("%s: not a recovery key (64 hexadecimal digits expected)", path);
        return r;
}

static int
status(int dirfd, const struct mkd_policy *p, const struct mkd_tpm_config *cfg, bool running)
{
        struct mkd_keystore_info info;
        char a[MKD_PCRS_TEXT_MAX];
        bool key_file;
        int r;

        r = mkd_keystore_inspect(dirfd, &info);
        if (r < 0)
                return r;
        key_file = faccessat(dirfd, MKD_SEAL_KEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        printf("mode: %s\n", mkd_tpm_mode_name(p->tpm_mode));
        printf("tcti: %s\n", cfg->tcti);
        printf("pcrs: %s\n", mkd_pcrs_text(cfg->pcr_bank, cfg->pcr_mask, a));
        printf("storage-key: %s\n", info.sealed ? "tpm-sealed" : key_file ? "key-file" : "none");
        if (info.sealed)
                printf("sealed-to-pcrs: %s\n",
                       info.pcr_bound ? mkd_pcrs_text(info.pcr_bank, info.pcr_mask, a)
                                      : "none");
        printf("recovery-key: %s\n", info.recovery ? "enrolled" : "none");
        printf("daemon: %s\n", running ? "running" : "stopped");
        if (running) {
                /* The vault holds the TPM connection (a socket TPM takes
                 * one client at a time): do not probe. */
                printf("tpm: in use by the daemon\n");
                return 0;
        }
#ifdef HAVE_TPM
        {
                struct mkd_tpm *t = NULL;
                char why[MKD_TPM_WHY_MAX];

                if (mkd_tpm_open(cfg->tcti, &t, why) == 0) {
                        printf("tpm: available\n");
                        mkd_tpm_close(t);
                } else {
                        printf("tpm: unavailable (%s)\n", why);
                }
        }
#else
        printf("tpm: unavailable (built without TPM support)\n");
#endif
        return 0;
}

int
mkd_admin_main(const char *cmd, const struct mkd_broker_options *opt, const char *recovery_path)
{
        _mkd_cleanup_close_ int dirfd = -1;
        char err[MKD_POLICY_ERR_MAX], dirbuf[4096];
        char hex[MKD_RECOVERY_HEX_LEN + 1];
        uint8_t rk[MKD_RECOVERY_KEY_LEN];
        struct mkd_tpm_config cfg;
        struct mkd_policy p;
        const char *dir;
        int r;

        mkd_log_set_proc(MKD_LOG_BROKER);
        if (strcmp(cmd, "status") != 0 && strcmp(cmd, "enroll") != 0 &&
            strcmp(cmd, "unenroll") != 0 && strcmp(cmd, "recover") != 0) {
                fprintf(stderr, "mlskeyd: --tpm-admin: status, enroll, unenroll or recover\n");
                return 2;
        }
        if (strcmp(cmd, "recover") == 0 && !recovery_path) {
                fprintf(stderr, "mlskeyd: --tpm-admin recover needs --recovery-key FILE\n");
                return 2;
        }
        if (mkd_policy_load(opt->config ? opt->config : MKD_POLICY_PATH, &p, err) < 0) {
                mkd_log_err("%s", err);
                return 1;
        }
        mkd_tpm_config_from_policy(&p, &cfg);
        dir = opt->state_dir ? opt->state_dir
                             : mkd_default_state_dir(opt->bus, dirbuf, sizeof(dirbuf));
        if (!dir) {
                mkd_log_err("no state directory: set --state-dir, XDG_DATA_HOME or HOME");
                return 1;
        }
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dirfd < 0) {
                mkd_log_err("%s: cannot open: %s", dir, strerror(errno));
                return 1;
        }
        /* TPM2-TSS logs its own errors to stderr unless told otherwise. */
        (void)setenv("TSS2_LOG", "all+none", 0);
        if (flock(dirfd, LOCK_EX | LOCK_NB) < 0) {
                if (strcmp(cmd, "status") == 0)
                        return status(dirfd, &p, &cfg, true) < 0 ? 1 : 0;
                mkd_log_err("%s is in use by a running mlskeyd: stop it first", dir);
                return 1;
        }
        if (strcmp(cmd, "status") == 0)
                return status(dirfd, &p, &cfg, false) < 0 ? 1 : 0;
        if (strcmp(cmd, "enroll") == 0) {
                r = mkd_keystore_enroll(dirfd, &cfg, mls_rng_system(), hex);
                if (r < 0) {
                        mkd_log_code(MKD_LOG_ERR, r, "enroll failed; nothing was changed unless "
                                                     "said above");
                        return 1;
                }
                fprintf(stderr, "The storage key of %s is sealed to the TPM. The recovery key "
                                "below is shown only now: keep it offline. It re-seals the "
                                "key after a firmware or boot change (`mlskeyctl tpm recover`).\n",
                        dir);
                if (p.tpm_mode == MKD_TPM_OFF)
                        fprintf(stderr, "Set [tpm] mode = prefer or require in the policy "
                                        "before starting the daemon.\n");
                /* write(2), not stdio: no copy left in stdout's buffer */
                fflush(stdout);
                hex[MKD_RECOVERY_HEX_LEN] = '\n';
                r = mkd_write_all(STDOUT_FILENO, (const uint8_t *)hex, MKD_RECOVERY_HEX_LEN + 1);
                sodium_memzero(hex, sizeof(hex));
                if (r < 0) {
                        fprintf(stderr, "mlskeyd: cannot write the recovery key: %s\n",
                                strerror(errno));
                        return 1;
                }
                return 0;
        }
        if (recovery_path && read_recovery(recovery_path, rk) < 0)
                return 1;
        if (strcmp(cmd, "unenroll") == 0)
                r = mkd_keystore_unenroll(dirfd, &cfg, recovery_path ? rk : NULL);
        else
                r = mkd_keystore_recover(dirfd, &cfg, rk);
        sodium_memzero(rk, sizeof(rk));
        if (r < 0) {
                mkd_log_code(MKD_LOG_ERR, r, "%s failed", cmd);
                return 1;
        }
        return 0;
}
