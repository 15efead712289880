package testsupport

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Process is a command run by [StartProcess], a service under test, whose
// stderr is kept line by line.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited

	mu      sync.Mutex
	stderr  []string
	waitErr error     // of cmd.Wait, once exited is closed
	ended   time.Time // when it exited
}

// StartProcess starts cmd, whose Stderr must be unset, and waits up to
// limit for a line of its stderr to match ready: it returns the first
// submatch (such as the address the service says it listens on). It fails
// the test if cmd cannot start, exits first, or says nothing matching in
// time. When the test ends the process is killed if it still runs, and
// its stderr is logged if the test failed.
func StartProcess(t testing.TB, cmd *exec.Cmd, ready *regexp.Regexp, limit time.Duration) (*Process, string) {
	t.Helper()
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr = append(p.stderr, line)
			p.mu.Unlock()
			if m := ready.FindStringSubmatch(line); len(m) > 1 {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr, p.ended = err, time.Now()
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // if it still runs
		<-p.exited
		if t.Failed() {
			t.Logf("%s's stderr:\n%s", cmd.Path, strings.Join(p.Stderr(), "\n"))
		}
	})
	select {
	case m := <-found:
		return p, m
	case <-p.exited:
		t.Fatalf("%s exited at start: %v", cmd.Path, p.waitErr)
	case <-time.After(limit):
		t.Fatalf("%s said nothing matching %q within %v", cmd.Path, ready, limit)
	}
	return nil, ""
}

// Stop sends sig to the process and waits up to limit for it to exit. It
// returns the exit code and how long after the signal the process exited;
// it fails the test if the process does not exit in time, or is killed
// by a signal.
func (p *Process) Stop(t testing.TB, sig os.Signal, limit time.Duration) (code int, took time.Duration) {
	t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(limit):
		t.Fatalf("%s did not exit within %v of %v", p.cmd.Path, limit, sig)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var exit *exec.ExitError
	switch {
	case p.waitErr == nil:
		code = 0
	case errors.As(p.waitErr, &exit) && exit.ExitCode() >= 0:
		code = exit.ExitCode()
	default:
		t.Fatalf("%s: %v", p.cmd.Path, p.waitErr)
	}
	return code, p.ended.Sub(sent)
}

// Stderr returns the lines the process wrote to stderr so far.
func (p *Process) Stderr() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.stderr...)
}
