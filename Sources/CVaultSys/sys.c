#include "CVaultSys.h"

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

// The terminal state a signal handler must put back. Written only outside handlers, with the
// signals blocked, so the handler never sees a half-written value.
static volatile sig_atomic_t saved_valid = 0;
static int saved_fd = -1;
static struct termios saved_termios;

static void restore_and_reraise(int sig) {
    vault_sys_restore_tty();
    signal(sig, SIG_DFL);
    raise(sig);
}

void vault_sys_install_tty_restore(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void block(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, old);
}

int vault_sys_save_tty(int fd) {
    sigset_t old;
    block(&old);
    int rc = tcgetattr(fd, &saved_termios);
    if (rc == 0) { saved_fd = fd; saved_valid = 1; }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void vault_sys_restore_tty(void) {
    if (saved_valid) {
        tcsetattr(saved_fd, TCSAFLUSH, &saved_termios);
        saved_valid = 0;
    }
}

int vault_sys_echo_off(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    return tcsetattr(fd, TCSAFLUSH, &t);
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
