#ifndef CVAULTSYS_H
#define CVAULTSYS_H

/// Makes the process not dumpable (prctl PR_SET_DUMPABLE 0): no core file, no ptrace attach by
/// the same user. Returns 0 on success, -1 with errno set otherwise (and 0 where not Linux).
int vault_sys_set_not_dumpable(void);

/// Sets RLIMIT_CORE to 0 (soft and hard). Returns 0 on success, -1 with errno set.
int vault_sys_disable_core_dumps(void);

/// Installs handlers for SIGINT and SIGTERM that restore the terminal settings saved by
/// vault_sys_save_tty (if any), then re-raise the signal with its default action.
void vault_sys_install_tty_restore(void);

/// Remembers fd and its current termios so a signal handler can restore them. Returns 0 or -1.
int vault_sys_save_tty(int fd);

/// Restores the saved termios (if any) and forgets it. Async-signal-safe.
void vault_sys_restore_tty(void);

/// Turns off echo (ECHO|ECHOE|ECHOK|ECHONL) on fd with TCSAFLUSH. Returns 0 or -1.
int vault_sys_echo_off(int fd);

/// Asks for SIGKILL when the parent process dies (prctl PR_SET_PDEATHSIG), so a helper never
/// outlives the vault process that started it. Returns 0, or -1 when the parent is already gone
/// or the call failed (0 where not Linux).
int vault_sys_die_with_parent(void);

#endif
