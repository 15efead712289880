package otelred

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// spyWriter has every optional interface and notes each call.
type spyWriter struct {
	header http.Header
	calls  []string
}

type allWriter interface {
	http.ResponseWriter
	http.Flusher
	http.Hijacker
	io.ReaderFrom
	http.Pusher
	io.StringWriter
}

var errSpyHijack = errors.New("spy: no connection")

func (s *spyWriter) Header() http.Header {
	if s.header == nil {
		s.header = http.Header{}
	}
	return s.header
}
func (s *spyWriter) Write(b []byte) (int, error) {
	s.calls = append(s.calls, "Write")
	return len(b), nil
}
func (s *spyWriter) WriteHeader(code int) { s.calls = append(s.calls, "WriteHeader") }
func (s *spyWriter) Flush()               { s.calls = append(s.calls, "Flush") }
func (s *spyWriter) ReadFrom(io.Reader) (int64, error) {
	s.calls = append(s.calls, "ReadFrom")
	return 0, nil
}
func (s *spyWriter) Push(string, *http.PushOptions) error {
	s.calls = append(s.calls, "Push")
	return nil
}
func (s *spyWriter) WriteString(v string) (int, error) {
	s.calls = append(s.calls, "WriteString")
	return len(v), nil
}
func (s *spyWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.calls = append(s.calls, "Hijack")
	return nil, nil, errSpyHijack
}

func kindName(k uint8) string {
	var parts []string
	for _, f := range []struct {
		bit  uint8
		name string
	}{{hasFlusher, "Flusher"}, {hasHijacker, "Hijacker"}, {hasReaderFrom, "ReaderFrom"}, {hasPusher, "Pusher"}, {hasStringWriter, "StringWriter"}} {
		if k&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	if len(parts) == 0 {
		return "no optional interface"
	}
	return strings.Join(parts, "+")
}

// TestWriterKeepsExactlyTheWrappedInterfaces checks every combination of
// optional interfaces: each is present on the wrapper exactly when the
// wrapped writer has it, and each call reaches the wrapped writer.
func TestWriterKeepsExactlyTheWrappedInterfaces(t *testing.T) {
	for kind := range uint8(numKinds) {
		t.Run(kindName(kind), func(t *testing.T) {
			spy := &spyWriter{}
			inner := fake(kind, spy)
			var w writer
			got := w.wrap(inner)

			has := func(bit uint8) bool { return kind&bit != 0 }
			f, isFlusher := got.(http.Flusher)
			fe, isFlushError := got.(interface{ FlushError() error })
			hj, isHijacker := got.(http.Hijacker)
			rf, isReaderFrom := got.(io.ReaderFrom)
			p, isPusher := got.(http.Pusher)
			sw, isStringWriter := got.(io.StringWriter)
			for _, c := range []struct {
				name      string
				got, want bool
			}{
				{"http.Flusher", isFlusher, has(hasFlusher)},
				{"FlushError", isFlushError, has(hasFlusher)},
				{"http.Hijacker", isHijacker, has(hasHijacker)},
				{"io.ReaderFrom", isReaderFrom, has(hasReaderFrom)},
				{"http.Pusher", isPusher, has(hasPusher)},
				{"io.StringWriter", isStringWriter, has(hasStringWriter)},
			} {
				if c.got != c.want {
					t.Errorf("%s present = %v, want %v", c.name, c.got, c.want)
				}
			}
			u, ok := got.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				t.Fatal("wrapper has no Unwrap")
			}
			if u.Unwrap() != inner {
				t.Error("Unwrap does not return the wrapped writer")
			}

			want := []string{}
			if isFlusher {
				f.Flush()
				if err := fe.FlushError(); err != nil {
					t.Errorf("FlushError = %v", err)
				}
				want = append(want, "Flush", "Flush")
			}
			if isHijacker {
				if _, _, err := hj.Hijack(); err != errSpyHijack {
					t.Errorf("Hijack error = %v, want the wrapped writer's", err)
				}
				want = append(want, "Hijack")
			}
			if isReaderFrom {
				rf.ReadFrom(strings.NewReader("x"))
				want = append(want, "ReadFrom")
			}
			if isPusher {
				p.Push("/x", nil)
				want = append(want, "Push")
			}
			if isStringWriter {
				sw.WriteString("x")
				want = append(want, "WriteString")
			}
			got.Write([]byte("x"))
			got.WriteHeader(http.StatusTeapot)
			want = append(want, "Write", "WriteHeader")
			if !slices.Equal(spy.calls, want) {
				t.Errorf("calls reaching the wrapped writer = %v, want %v", spy.calls, want)
			}
		})
	}
}

// TestWriterStatus pins the status rules on the writer, and the rule that
// records a request that sent none (ended); the middleware tests check
// them again against a real server.
func TestWriterStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(w http.ResponseWriter)
		want int
	}{
		{"nothing written is 200", func(http.ResponseWriter) {}, 200},
		{"the first final status wins", func(w http.ResponseWriter) { w.WriteHeader(201); w.WriteHeader(500) }, 201},
		{"1xx is not final", func(w http.ResponseWriter) { w.WriteHeader(100); w.WriteHeader(103); w.WriteHeader(404) }, 404},
		{"only 1xx leaves 200", func(w http.ResponseWriter) { w.WriteHeader(103) }, 200},
		{"101 is final", func(w http.ResponseWriter) { w.WriteHeader(101); w.WriteHeader(500) }, 101},
		{"Write fixes 200", func(w http.ResponseWriter) { w.Write(nil); w.WriteHeader(500) }, 200},
		{"WriteString fixes 200", func(w http.ResponseWriter) { io.WriteString(w, "x"); w.WriteHeader(500) }, 200},
		{"ReadFrom fixes 200", func(w http.ResponseWriter) { w.(io.ReaderFrom).ReadFrom(strings.NewReader("")); w.WriteHeader(500) }, 200},
		{"Flush fixes 200", func(w http.ResponseWriter) { w.(http.Flusher).Flush(); w.WriteHeader(500) }, 200},
		{"Flush through ResponseController fixes 200", func(w http.ResponseWriter) { http.NewResponseController(w).Flush(); w.WriteHeader(500) }, 200},
		{"1xx then Write fixes 200", func(w http.ResponseWriter) { w.WriteHeader(103); w.Write(nil) }, 200},
		{"a failed Hijack changes nothing", func(w http.ResponseWriter) { w.(http.Hijacker).Hijack() }, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w writer
			tc.do(w.wrap(fake(numKinds-1, &spyWriter{})))
			m := &middleware{labeler: labeler{names: profiles[Semconv].server.names}, sig: &profiles[Semconv].server}
			if got, _ := m.ended(w.status, 0, 0, false); got != tc.want {
				t.Errorf("status = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestWriterGeneratedCodeIsCurrent fails when writer_gen.go or its test
// helper no longer match what writergen produces.
func TestWriterGeneratedCodeIsCurrent(t *testing.T) {
	dir := t.TempDir()
	gen, genTest := filepath.Join(dir, "gen.go"), filepath.Join(dir, "gen_test.go")
	cmd := exec.Command("go", "run", "./internal/writergen", "-o", gen, "-test", genTest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/writergen: %v\n%s", err, out)
	}
	for _, f := range []struct{ fresh, committed string }{{gen, "writer_gen.go"}, {genTest, "writer_gen_test.go"}} {
		fresh, err := os.ReadFile(f.fresh)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(f.committed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s is stale: run go generate in otelred/", f.committed)
		}
	}
}

// TestKindOfRemembered checks the remembered kinds: every type's kind is
// right the first time it is seen, when it comes from a slot, and once the
// slots are full (32 types for 8 slots), in every order of arrival.
func TestKindOfRemembered(t *testing.T) {
	for pass := range 3 {
		for i := range uint8(numKinds) {
			kind := i
			if pass == 1 {
				kind = numKinds - 1 - i
			}
			if got := kindOf(fake(kind, &spyWriter{})); got != kind {
				t.Errorf("pass %d: kindOf(%s) = %s", pass, kindName(kind), kindName(got))
			}
		}
	}
	cached := 0
	for i := range kinds {
		if e := kinds[i].Load(); e != nil {
			cached++
			if want := assertKind(reflect.New(e.t).Elem().Interface().(http.ResponseWriter)); e.kind != want {
				t.Errorf("slot %d: %v remembered as %s, want %s", i, e.t, kindName(e.kind), kindName(want))
			}
		}
	}
	if cached != len(kinds) {
		t.Errorf("%d slots hold a type after %d types, want all %d", cached, numKinds, len(kinds))
	}
}
