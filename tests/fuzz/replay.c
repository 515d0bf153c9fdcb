/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays a corpus through a fuzz target without libFuzzer, so that
 * make check runs every seed on every build. Arguments are files or
 * folders (one level). Prints "<name>: N inputs replayed" and exits 0; a
 * target property failure aborts.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int
replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *buf;
        long len;

        if (!f)
                return -1;
        if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
                fclose(f);
                return -1;
        }
        /* Exact-size allocation so ASan catches any overread. */
        buf = malloc(len ? (size_t)len : 1);
        if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
                free(buf);
                fclose(f);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        free(buf);
        return 0;
}

int
main(int argc, char **argv)
{
        size_t count = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s CORPUS-DIR-OR-FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;
                DIR *d;
                struct dirent *de;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: cannot stat\n", argv[i]);
                        return 2;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (replay_file(argv[i]) < 0) {
                                fprintf(stderr, "%s: cannot read\n", argv[i]);
                                return 2;
                        }
                        count++;
                        continue;
                }
                d = opendir(argv[i]);
                if (!d)
                        return 2;
                while ((de = readdir(d))) {
                        char path[4096];

                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
                        if (replay_file(path) < 0) {
                                fprintf(stderr, "%s: cannot read\n", path);
                                closedir(d);
                                return 2;
                        }
                        count++;
                }
                closedir(d);
        }
        if (count == 0) {
                fprintf(stderr, "no inputs replayed\n");
                return 1;
        }
        printf("%s: %zu inputs replayed\n", argv[0], count);
        return 0;
}
