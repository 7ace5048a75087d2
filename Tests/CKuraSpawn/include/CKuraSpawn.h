#ifndef C_KURA_SPAWN_H
#define C_KURA_SPAWN_H

#include <spawn.h>

/// glibc functions that Swift's Glibc module does not import: they are declared only under
/// _GNU_SOURCE / __USE_MISC, which the module is not built with. The wrappers (spawn.c,
/// compiled with _GNU_SOURCE) link against them directly, so a C library without them fails
/// at link time, not in a test.

/// posix_spawn_file_actions_addchdir_np (glibc 2.29): the child changes to `path` when this
/// action's turn comes.
int kura_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes every descriptor
/// from `from` up when this action's turn comes.
int kura_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// pipe2(fds, O_CLOEXEC): a pipe whose two ends are close-on-exec from the start, so no
/// program started meanwhile by another thread inherits them.
int kura_pipe_cloexec(int fds[2]);

#endif
