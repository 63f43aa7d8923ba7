#ifndef CVAULTSYS_H
#define CVAULTSYS_H

/// Makes the process not dumpable (prctl PR_SET_DUMPABLE 0): no core file, no ptrace attach by
/// the same user. Returns 0 on success, -1 with errno set otherwise (and 0 where not Linux).
int vault_sys_set_not_dumpable(void);

/// Sets RLIMIT_CORE to 0 (soft and hard). Returns 0 on success, -1 with errno set.
int vault_sys_disable_core_dumps(void);

/// Puts the default action back for the crash signals (QUIT ILL TRAP ABRT BUS FPE SEGV SYS)
/// where a handler is installed — the Swift runtime's backtracer, which prints registers and
/// memory — leaving an inherited SIG_IGN alone. Returns 0, or -1 if a sigaction call failed.
int vault_sys_reset_crash_signals(void);

/// Ignores SIGPIPE, so a write to a closed pipe fails with EPIPE instead of ending the process.
/// Returns 0 or -1.
int vault_sys_ignore_sigpipe(void);

/// Installs the terminal's guards: every signal whose default action ends the process restores
/// the terminal settings saved by vault_sys_save_tty (if echo is off) and then ends the process
/// the default way; SIGTSTP, SIGTTIN and SIGTTOU restore it and stop; SIGCONT turns echo off
/// again while a secret is being read and vault is in the foreground. Signals the process
/// inherited as ignored stay ignored.
void vault_sys_install_tty_restore(void);

/// Remembers fd and its current termios so a signal handler can restore them. Returns 0 or -1.
int vault_sys_save_tty(int fd);

/// Turns off echo (ECHO|ECHOE|ECHOK|ECHONL) on the fd given to vault_sys_save_tty, with
/// TCSAFLUSH. Returns 0 or -1.
int vault_sys_echo_off(int fd);

/// read(2) of the terminal with SIGTTIN and SIGTTOU unblocked for the calling thread, so that a
/// read from the background stops the job (until `fg`) instead of failing with EIO.
long vault_sys_read_tty(int fd, void *buffer, unsigned long count);

/// Restores the saved termios (if echo is off) and ends the secret read: a later SIGCONT leaves
/// the terminal alone.
void vault_sys_restore_tty(void);

/// Asks for SIGKILL when the parent process dies (prctl PR_SET_PDEATHSIG), so a helper never
/// outlives the vault process that started it. Returns 0, or -1 when the parent is already gone
/// or the call failed (0 where not Linux).
int vault_sys_die_with_parent(void);

/// Opens a new file without a name in the folder `dir`, for reading and writing, with `mode`
/// (O_TMPFILE): if the process dies before it is linked, nothing is left behind. Returns the fd,
/// or -1 with errno set (EOPNOTSUPP, EISDIR or EINVAL where the file system or system has no
/// O_TMPFILE: the caller then uses a named temporary file).
int vault_sys_open_unnamed(const char *dir, unsigned int mode);

/// Gives the unnamed file `fd` the name `path` (linkat through /proc/self/fd, else
/// AT_EMPTY_PATH), which fails with EEXIST if anything has that name: nothing is ever replaced.
/// Returns 0, or -1 with errno set.
int vault_sys_link_unnamed(int fd, const char *path);

#endif
