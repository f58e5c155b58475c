// Command pulumi-sdkgen-dotnet writes the .NET SDK of a Pulumi package schema with Pulumi's own .NET generator,
// used by scripts/gen-sdks.sh.
//
// Why a module of its own: pulumi/pulumi's pkg/v3 dropped codegen/dotnet when the generator moved into
// pulumi-dotnet's language host (github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet), a module the Go module
// proxy reachable here does not serve. pkg/v3 v3.206.0, the version the YAML language host is built with
// (scripts/pulumi-yaml), still has it; this module pins the same module graph, so it builds from what that build
// already downloaded. A schema is a versioned format both generators read the same way.
//
//	pulumi-sdkgen-dotnet <schema.json> <out dir> <version>
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	dotnetgen "github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-ibmcloud-iam gen-sdk"

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-sdkgen-dotnet <schema.json> <out dir> <version>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-sdkgen-dotnet:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out, version string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	v, err := semver.ParseTolerant(version)
	if err != nil {
		return fmt.Errorf("version %q: %w", version, err)
	}
	spec.Version = v.String()
	// The generator fetches the package logo over HTTP (Pulumi's own logo on GitHub when the schema names none),
	// which this machine cannot reach: without a logo URL in the schema, it is served a plain one from loopback.
	if spec.LogoURL == "" {
		url, stop, err := serveLogo()
		if err != nil {
			return err
		}
		defer stop()
		spec.LogoURL = url
	}
	// The schema refers to no other package; the loader is never asked to start a plugin.
	loader := schema.NewPluginLoader(nil)
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("binding the schema: %w", err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("binding the schema: %v", diags)
	}
	files, err := dotnetgen.GeneratePackage(tool, pkg, nil, nil)
	if err != nil {
		return fmt.Errorf("dotnet: %w", err)
	}
	for name, content := range files {
		p := filepath.Join(out, "dotnet", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("dotnet: %d files\n", len(files))
	return nil
}

// serveLogo serves a plain 64x64 PNG on a loopback port; returns its URL and a stop function.
func serveLogo() (string, func(), error) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := 0; x < 64; x++ {
		for y := 0; y < 64; y++ {
			img.Set(x, y, color.RGBA{R: 0x0f, G: 0x62, B: 0xfe, A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(buf.Bytes())
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/logo.png", func() { _ = srv.Close() }, nil
}
