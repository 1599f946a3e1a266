package githttp

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// bufferedWriter holds a whole CGI response so the push report can be edited.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedWriter() *bufferedWriter {
	return &bufferedWriter{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// declined is git's reason for every ref of a push its pre-receive hook refused.
const declined = "pre-receive hook declined"

// maxSideband is the largest payload of one side-band-64k packet.
const maxSideband = 65515

// rewriteReport replaces the reason of refs rejected by the pre-receive hook
// in a receive-pack response (report-status, with or without side band) by
// the reasons the hook wrote, keyed by ref name. A response it cannot parse
// comes back unchanged.
func rewriteReport(body []byte, reasons map[string]string) []byte {
	pkts, ok := splitPktLines(body)
	if !ok || len(pkts) == 0 {
		return body
	}
	first := pkts[0]
	if len(first) == 0 || first[0] > 3 {
		// No side band: the packets are the report itself.
		return joinPktLines(rewriteStatus(pkts, reasons))
	}
	var report []byte
	var other [][]byte
	for _, p := range pkts {
		switch {
		case p == nil:
		case len(p) > 0 && p[0] == 1:
			report = append(report, p[1:]...)
		default:
			other = append(other, p)
		}
	}
	inner, ok := splitPktLines(report)
	if !ok {
		return body
	}
	report = joinPktLines(rewriteStatus(inner, reasons))
	out := other
	for len(report) > 0 {
		n := min(len(report), maxSideband)
		out = append(out, append([]byte{1}, report[:n]...))
		report = report[n:]
	}
	out = append(out, nil)
	return joinPktLines(out)
}

// rewriteStatus edits "ng <ref> pre-receive hook declined" lines.
func rewriteStatus(pkts [][]byte, reasons map[string]string) [][]byte {
	out := make([][]byte, len(pkts))
	for i, p := range pkts {
		out[i] = p
		line := strings.TrimSuffix(string(p), "\n")
		rest, ok := strings.CutPrefix(line, "ng ")
		if !ok {
			continue
		}
		ref, reason, _ := strings.Cut(rest, " ")
		if why, found := reasons[ref]; found && reason == declined {
			out[i] = []byte("ng " + ref + " " + why + "\n")
		}
	}
	return out
}

// splitPktLines splits pkt-line framed data; a flush packet is nil.
func splitPktLines(data []byte) ([][]byte, bool) {
	var pkts [][]byte
	for len(data) > 0 {
		if len(data) < 4 {
			return nil, false
		}
		n, err := strconv.ParseUint(string(data[:4]), 16, 16)
		if err != nil {
			return nil, false
		}
		if n == 0 {
			pkts = append(pkts, nil)
			data = data[4:]
			continue
		}
		if n < 4 || int(n) > len(data) {
			return nil, false
		}
		pkts = append(pkts, data[4:n])
		data = data[n:]
	}
	return pkts, true
}

// joinPktLines frames packets as pkt-lines; a nil packet is a flush.
func joinPktLines(pkts [][]byte) []byte {
	var b bytes.Buffer
	for _, p := range pkts {
		if p == nil {
			b.WriteString("0000")
			continue
		}
		fmt.Fprintf(&b, "%04x", len(p)+4)
		b.Write(p)
	}
	return b.Bytes()
}
