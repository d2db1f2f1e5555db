package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
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
// and keeps its figures per stage.
func (b *bench) eventPath(ctx context.Context) error {
	n := "20000x"
	if b.opt.quick {
		n = "2000x"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkEventPath$", "-benchmem", "-benchtime", n, "./xmppconn/")
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

// parseBench reads "BenchmarkEventPath/<stage>-N  iters  x ns/op  y B/op  z allocs/op"
// lines.
func parseBench(out []byte) (map[string]PathStage, error) {
	stages := map[string]PathStage{}
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
		stages[name] = st
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no BenchmarkEventPath results in:\n%s", out)
	}
	return stages, nil
}
