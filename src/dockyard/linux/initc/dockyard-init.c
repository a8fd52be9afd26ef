/* dockyard-init: a minimal init for pid 1 of a container (`run --init`).
 *
 *   dockyard-init [--] COMMAND [ARG...]
 *
 * It runs COMMAND as its child, forwards the signals a user sends to the container
 * (TERM, INT, HUP, QUIT, USR1, USR2, WINCH) to it, reaps every process that ends up as
 * its child (orphans are re-parented to pid 1), and exits with the child's status:
 * its exit code, or 128 + the signal that killed it.
 *
 * The signals are blocked and taken with sigtimedwait, never delivered: pid 1 of a pid
 * namespace only receives signals it handles or blocks, and no handler runs between a
 * fork and an exec. Built static (gcc -static -Os) so it runs in any image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static void noop(int sig) { (void)sig; }

static int status_code(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

/* Reap every child that has ended; sets *code and returns 1 once `child` is among them. */
static int reap(pid_t child, int *code) {
    int done = 0;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            if (pid < 0 && errno == EINTR)
                continue;
            return done;
        }
        if (pid == child) {
            *code = status_code(status);
            done = 1;
        }
    }
}

int main(int argc, char **argv) {
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "--") == 0)
        first = 2;
    if (first >= argc) {
        fprintf(stderr, "usage: dockyard-init [--] COMMAND [ARG...]\n");
        return 2;
    }

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (size_t i = 0; i < NFORWARDED; i++) {
        sigaddset(&set, forwarded[i]);
        /* a handler as well: blocked is enough to queue them, this keeps it so if a
           signal were ever unblocked */
        signal(forwarded[i], noop);
    }
    if (sigprocmask(SIG_BLOCK, &set, &old) != 0) {
        perror("dockyard-init: sigprocmask");
        return 1;
    }

    /* the child takes the terminal (when there is one) as its own process group: a
       ctrl-C on a tty then reaches it once, not through us a second time */
    signal(SIGTTOU, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);

    pid_t child = fork();
    if (child < 0) {
        perror("dockyard-init: fork");
        return 1;
    }
    if (child == 0) {
        setpgid(0, 0);
        if (isatty(STDIN_FILENO))
            tcsetpgrp(STDIN_FILENO, getpgrp());
        signal(SIGTTOU, SIG_DFL);
        signal(SIGTTIN, SIG_DFL);
        for (size_t i = 0; i < NFORWARDED; i++)
            signal(forwarded[i], SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[first], argv + first);
        int err = errno;
        fprintf(stderr, "dockyard-init: exec %s failed: %s\n", argv[first], strerror(err));
        _exit(err == ENOENT ? 127 : 126);
    }

    int code = 1;
    for (;;) {
        siginfo_t info;
        struct timespec tick = {1, 0}; /* a missed SIGCHLD costs at most a second */
        int sig = sigtimedwait(&set, &info, &tick);
        if (sig < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                perror("dockyard-init: sigtimedwait");
                return 1;
            }
        } else if (sig != SIGCHLD) {
            if (kill(child, sig) != 0 && errno != ESRCH)
                perror("dockyard-init: kill");
            continue;
        }
        if (reap(child, &code))
            break;
    }
    /* the command is done: reap what else has ended already, then leave with its status
       (the kernel kills the rest of the namespace when pid 1 exits) */
    int ignored;
    reap(-1, &ignored);
    return code;
}
