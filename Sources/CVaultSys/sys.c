#define _GNU_SOURCE
#include "CVaultSys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

int vault_sys_set_not_dumpable(void) {
#ifdef __linux__
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#else
    return 0;
#endif
}

int vault_sys_disable_core_dumps(void) {
    struct rlimit rl = { 0, 0 };
    return setrlimit(RLIMIT_CORE, &rl);
}

// --- Crash signals -------------------------------------------------------------------------

// The signals the Swift runtime's backtracer catches (seen in /proc/PID/status SigCgt of a
// vault 0.1 process: QUIT ILL TRAP ABRT BUS FPE SEGV; SYS for good measure). Its handler prints
// the registers and the memory they point to, and waits at a terminal for a key: in a process
// that holds secrets, that is a memory dump on the screen, so vault puts the default action back.
static const int crash_signals[] = { SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS };

static int has_handler(const struct sigaction *sa) {
    if (sa->sa_flags & SA_SIGINFO) return 1;
    return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

int vault_sys_reset_crash_signals(void) {
    int rc = 0;
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        struct sigaction old;
        if (sigaction(crash_signals[i], NULL, &old) != 0) { rc = -1; continue; }
        // An inherited SIG_IGN (nohup, a background job's SIGQUIT) is the caller's choice: kept.
        if (!has_handler(&old)) continue;
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        if (sigaction(crash_signals[i], &dfl, NULL) != 0) rc = -1;
    }
    return rc;
}

int vault_sys_ignore_sigpipe(void) {
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    return sigaction(SIGPIPE, &ign, NULL);
}

// --- The terminal at a prompt --------------------------------------------------------------

// Signals whose default action ends the process: each restores the terminal, then ends it the
// default way. SIGKILL cannot be caught (the shell's `reset` or `stty echo` is the remedy).
static const int ending_signals[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGUSR1, SIGSEGV, SIGUSR2,
    SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGSYS,
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
#ifdef SIGPOLL
    SIGPOLL,
#endif
#ifdef SIGPWR
    SIGPWR,
#endif
};
// Signals whose default action stops the process (Ctrl-Z; a background job reading or setting
// the terminal): each restores the terminal, then stops the default way.
static const int stopping_signals[] = { SIGTSTP, SIGTTIN, SIGTTOU };

// The state the handlers act on. Written only outside handlers with every handled signal
// blocked, so a handler never sees a half-written value.
static int saved_fd = -1;
static struct termios saved_termios;   // the user's settings, put back on every exit path
static struct termios noecho_termios;  // the same with echo off, applied again on SIGCONT
static volatile sig_atomic_t echo_wanted = 0;  // a secret is being read
static volatile sig_atomic_t echo_is_off = 0;  // the terminal has echo off right now

static void handled_set(sigset_t *set) {
    sigemptyset(set);
    for (size_t i = 0; i < sizeof ending_signals / sizeof ending_signals[0]; i++) sigaddset(set, ending_signals[i]);
    for (size_t i = 0; i < sizeof stopping_signals / sizeof stopping_signals[0]; i++) sigaddset(set, stopping_signals[i]);
    sigaddset(set, SIGCONT);
}

static void block(sigset_t *old) {
    sigset_t set;
    handled_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void unblock(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

// Async-signal-safe: tcsetattr is on POSIX's list.
static void put_back(void) {
    if (echo_is_off) {
        tcsetattr(saved_fd, TCSAFLUSH, &saved_termios);
        echo_is_off = 0;
    }
}

static void on_ending(int sig) {
    put_back();
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    // Delivered when the handler returns (it is blocked until then): the default action ends
    // the process with this signal, as the parent expects (status 128+N in a shell).
    raise(sig);
}

static void echo_off_again(void);

static void on_stopping(int sig) {
    int saved_errno = errno;
    put_back();
    // Stop now, the default way; resume here on SIGCONT.
    struct sigaction dfl, mine;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, &mine);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    raise(sig);
    pthread_sigmask(SIG_BLOCK, &only, NULL);
    sigaction(sig, &mine, NULL);
    // Resumed — or never stopped: the kernel discards these stops in an orphaned process group
    // (no shell with job control above it). Either way the secret is still being read.
    echo_off_again();
    errno = saved_errno;
}

// Echo goes off again only while a secret is being read and only when vault is the terminal's
// foreground job: continued in the background (`bg`), it leaves the terminal alone until a read
// brings it to the foreground (SIGTTIN, then `fg`, then here again).
static void echo_off_again(void) {
    if (echo_wanted && !echo_is_off && tcgetpgrp(saved_fd) == getpgrp()) {
        if (tcsetattr(saved_fd, TCSAFLUSH, &noecho_termios) == 0) echo_is_off = 1;
    }
}

static void on_continue(int sig) {
    (void)sig;
    int saved_errno = errno;
    echo_off_again();
    errno = saved_errno;
}

static void install(int sig, void (*handler)(int)) {
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0) return;
    // A signal the caller ignores (nohup's SIGHUP, a background job's SIGINT) stays ignored.
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    // Every handled signal waits while one handler runs; SA_RESTART resumes the read of the
    // answer (or the tcsetattr) a stop interrupted.
    handled_set(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

void vault_sys_install_tty_restore(void) {
    for (size_t i = 0; i < sizeof ending_signals / sizeof ending_signals[0]; i++) install(ending_signals[i], on_ending);
    for (size_t i = 0; i < sizeof stopping_signals / sizeof stopping_signals[0]; i++) install(stopping_signals[i], on_stopping);
    install(SIGCONT, on_continue);
}

int vault_sys_save_tty(int fd) {
    sigset_t old;
    block(&old);
    int rc = tcgetattr(fd, &saved_termios);
    if (rc == 0) {
        saved_fd = fd;
        noecho_termios = saved_termios;
        noecho_termios.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    }
    unblock(&old);
    return rc;
}

// The job-control signals a terminal call may raise, unblocked for the calling thread around
// that call. vault reads the answer on a Swift concurrency worker thread, and libdispatch blocks
// nearly every signal in its workers; with SIGTTIN blocked, a read from the background fails
// with EIO instead of stopping the job until `fg`, and with SIGTTOU blocked, a background
// tcsetattr turns echo off under the user's shell instead of stopping.
static void allow_job_control(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTTIN);
    sigaddset(&set, SIGTTOU);
    pthread_sigmask(SIG_UNBLOCK, &set, old);
}

int vault_sys_echo_off(int fd) {
    if (fd != saved_fd) { errno = EBADF; return -1; }
    echo_wanted = 1;
    // Marked before the call: a signal in between restores settings that are still the
    // user's, which is harmless; marked after, it could end vault with echo off.
    echo_is_off = 1;
    sigset_t old;
    allow_job_control(&old);
    int rc = tcsetattr(fd, TCSAFLUSH, &noecho_termios);
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) echo_is_off = 0;
    errno = saved_errno;
    return rc;
}

long vault_sys_read_tty(int fd, void *buffer, unsigned long count) {
    sigset_t old;
    allow_job_control(&old);
    long n = (long)read(fd, buffer, count);
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved_errno;
    return n;
}

void vault_sys_restore_tty(void) {
    sigset_t old;
    block(&old);
    echo_wanted = 0;
    put_back();
    unblock(&old);
}

int vault_sys_die_with_parent(void) {
#ifdef __linux__
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return -1;
    // The parent may have died before the call: then it will never deliver the signal.
    return getppid() == parent ? 0 : -1;
#else
    return 0;
#endif
}

int vault_sys_open_unnamed(const char *dir, unsigned int mode) {
#if defined(__linux__) && defined(O_TMPFILE)
    return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)mode);
#else
    (void)dir; (void)mode;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

int vault_sys_link_unnamed(int fd, const char *path) {
#if defined(__linux__) && defined(O_TMPFILE)
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) return 0;
    if (errno != ENOENT) return -1;
    // No /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH, so it may fail with ENOENT too).
    return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
#else
    (void)fd; (void)path;
    errno = EOPNOTSUPP;
    return -1;
#endif
}
