package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PathStage is one stage of xmppconn's BenchmarkEventPath.
type PathStage struct {
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// eventPath runs the event path Go benchmark (go test -bench, -benchmem)
// and keeps its figures per stage: the median of pathRuns runs of a
// second each. -short keeps the package's TestMain from starting an
// ejabberd the benchmark does not use (its start had shared the cores
// with 20,000 iterations, a tenth of a second, and read 6.5 µs where a
// quiet run reads 1.7).
func (b *bench) eventPath(ctx context.Context) error {
	n, runs := "1s", strconv.Itoa(pathRuns)
	if b.opt.quick {
		n, runs = "2000x", "1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-short", "-run", "^$", "-bench", "^BenchmarkEventPath$", "-benchmem", "-benchtime", n, "-count", runs, "./xmppconn/")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	stages, err := parseBench(out)
	if err != nil {
		return err
	}
	b.res.EventPath = stages
	b.res.EventPathCmd = strings.Join(cmd.Args, " ")
	return nil
}

// pathRuns is how many times the event path benchmark runs.
const pathRuns = 5

// parseBench reads "BenchmarkEventPath/<stage>-N  iters  x ns/op  y B/op  z allocs/op"
// lines; of a stage's several runs it keeps the median by ns/op.
func parseBench(out []byte) (map[string]PathStage, error) {
	runs := map[string][]PathStage{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkEventPath/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkEventPath/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		var st PathStage
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				st.NsPerOp = v
			case "B/op":
				st.BytesPerOp = v
			case "allocs/op":
				st.AllocsPerOp = v
			}
		}
		runs[name] = append(runs[name], st)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("no BenchmarkEventPath results in:\n%s", out)
	}
	stages := map[string]PathStage{}
	for name, rs := range runs {
		slices.SortFunc(rs, func(a, b PathStage) int { return cmp.Compare(a.NsPerOp, b.NsPerOp) })
		stages[name] = rs[len(rs)/2]
	}
	return stages, nil
}
