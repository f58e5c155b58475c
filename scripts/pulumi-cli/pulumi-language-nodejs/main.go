// Command pulumi-language-nodejs is a minimal Node.js language host for the Pulumi engine, used
// by scripts/ensure-pulumi.sh when no real `pulumi-language-nodejs` is on PATH.
//
// Why it exists: the upstream language host is the untagged Go module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which the Go module proxy
// reachable from this project's machines does not serve (`go list -m -versions` on it answers
// "403 Forbidden: This module version is not available"), so it cannot be built here. A plain
// `pulumi up` / `pulumi preview` of a Pulumi.yaml project with `runtime: nodejs` needs a language
// host; this one implements the part of the LanguageRuntime gRPC service the engine uses for
// deployments (Handshake, GetPluginInfo, GetRequiredPlugins/Packages, Run, About,
// GetProgramDependencies, InstallDependencies as a no-op) by running the program with the
// `@pulumi/pulumi/cmd/run` entry point of the project's own node_modules, exactly like the
// upstream host does. It does not install dependencies, generate code, pack SDKs or run
// policy packs. The programs are expected to be compiled JavaScript (runtime option
// `typescript: false`), though `typescript: true` is passed through to @pulumi/pulumi as usual.
//
// Protocol: started by the engine as `pulumi-language-nodejs [flags] <engine address>` with
// cwd = the program directory; it prints its gRPC port on the first stdout line and serves until
// the engine kills it, the engine stops answering health checks, or the engine process is gone
// (this host is then reparented: see watchParent). The program it runs goes with it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version reported to the engine; set with -ldflags "-X main.version=..." by ensure-pulumi.sh.
var version = "3.274.1"

// Exit code with which @pulumi/pulumi's run entry point says "the error was already shown to the
// user" (nodeJSProcessExitedAfterLoggingUserActionableMessage).
const bailExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string

	mu       sync.Mutex
	children map[*exec.Cmd]struct{}
}

// watchParent calls gone once the process that started this one has exited: on Linux and macOS
// an orphan is reparented (to init or a subreaper), so its parent pid changes.
func watchParent(ctx context.Context, parent int, every time.Duration, gone func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				gone()
				return
			}
		}
	}
}

// stopChildren asks every running program to stop (SIGTERM), and kills those still there after
// grace.
func (h *host) stopChildren(grace time.Duration) {
	h.mu.Lock()
	cmds := make([]*exec.Cmd, 0, len(h.children))
	for c := range h.children {
		cmds = append(cmds, c)
	}
	h.mu.Unlock()
	for _, c := range cmds {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.Now().Add(grace)
	for _, c := range cmds {
		for time.Now().Before(deadline) && c.Process.Signal(syscall.Signal(0)) == nil && !h.exited(c) {
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Process.Kill()
	}
}

func (h *host) exited(c *exec.Cmd) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, running := h.children[c]
	return !running
}

func main() {
	engineAddress := ""
	for _, a := range os.Args[1:] {
		if a == "--version" || a == "-version" {
			fmt.Println(version)
			return
		}
		// Flags added by the engine (-v=N, --logtostderr, --logflow, --tracing=...) are ignored;
		// the engine address is the last positional argument.
		if !strings.HasPrefix(a, "-") {
			engineAddress = a
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &host{engineAddress: engineAddress, children: map[*exec.Cmd]struct{}{}}
	// A killed engine (kill -9 of the CLI) closes nothing this host would notice for minutes: the
	// health check below runs every 5 minutes, as upstream's. So the parent is watched too, and
	// when it is gone the programs this host started are stopped before it exits.
	parent := os.Getppid()
	go watchParent(ctx, parent, time.Second, func() {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: the engine (pid %d) is gone; stopping\n", parent)
		h.stopChildren(5 * time.Second)
		os.Exit(1)
	})
	if engineAddress != "" {
		// Exit when the engine stops answering, so that no host outlives it.
		go func() { _ = rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel) }()
	}

	cancelServe := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelServe)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelServe,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the language host: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// The dynamic-provider plugin (pulumi-resource-pulumi-nodejs) is found on PATH by the engine when
// a resource needs it; nothing has to be installed ahead of the run.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// InstallDependencies is a no-op: the project installs its node_modules with npm itself.
func (h *host) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return nil
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "node not found on PATH: %v", err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "node --version: %v", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// Run runs the program with node and @pulumi/pulumi/cmd/run, as the upstream host does.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	pwd := req.GetPwd()
	if info != nil && info.GetProgramDirectory() != "" {
		pwd = info.GetProgramDirectory()
	}
	if pwd == "" {
		var err error
		if pwd, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	entry := req.GetProgram() //nolint:staticcheck // still sent by the engine
	if info != nil && info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	}
	if entry == "" {
		entry = "."
	}
	options := map[string]any{}
	if info != nil && info.GetOptions() != nil {
		options = info.GetOptions().AsMap()
	}

	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on PATH: " + err.Error()}, nil
	}
	runPath, err := locateRunEntryPoint(pwd)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := []string{}
	if nodeargs, ok := options["nodeargs"].(string); ok && strings.TrimSpace(nodeargs) != "" {
		args = append(args, strings.Fields(nodeargs)...)
	}
	args = append(args, runPath)
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", pwd)
	if info != nil {
		add("root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(boolOption(options, "typescript", true)),
	)
	if tsconfig, ok := options["tsconfig"].(string); ok && tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}

	cmd := exec.Command(node, args...)
	cmd.Dir = pwd
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// Linux: the kernel stops the program if this host dies without a chance to (SIGKILL).
	cmd.SysProcAttr = childAttributes()
	h.mu.Lock()
	if err := cmd.Start(); err != nil {
		h.mu.Unlock()
		return &pulumirpc.RunResponse{Error: "could not start node: " + err.Error()}, nil
	}
	h.children[cmd] = struct{}{}
	h.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		h.mu.Lock()
		delete(h.children, cmd)
		h.mu.Unlock()
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			err = <-done
		}
		return nil, ctx.Err()
	}
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if exitErr.ExitCode() == bailExitCode {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		if exitErr.ExitCode() >= 0 {
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
	}
	return &pulumirpc.RunResponse{Error: "Program failed: " + err.Error()}, nil
}

func boolOption(options map[string]any, key string, def bool) bool {
	switch v := options[key].(type) {
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return def
}

// locateRunEntryPoint finds node_modules/@pulumi/pulumi/cmd/run walking up from dir, the way
// Node.js resolves `require("@pulumi/pulumi/cmd/run")` from the program directory.
func locateRunEntryPoint(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "node_modules", "@pulumi", "pulumi", "cmd", "run")
		if st, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil && !st.IsDir() {
			return candidate, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", fmt.Errorf("could not find node_modules/@pulumi/pulumi/cmd/run above %s: "+
		"install the project's dependencies (npm ci) first", abs)
}
