// Command gen-sdk writes the SDKs of a Pulumi package schema with Pulumi's own code generators
// (github.com/pulumi/pulumi/pkg/v3/codegen/{nodejs,python,go}), used by scripts/gen-sdks.sh.
//
// Why it exists: `pulumi package gen-sdk` asks each language's host (pulumi-language-python, -go,
// -nodejs) to generate the package, and those hosts live in untagged modules of pulumi/pulumi that
// the Go module proxy reachable here does not serve (our minimal pulumi-language-nodejs implements no
// code generation). The generators themselves are packages of pkg/v3, which the CLI's wrapper module
// already pins: this calls them directly, the way the language hosts do.
//
//	gen-sdk <schema.json> <out dir> <version> <language>...
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pythongen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-ibmcloud-iam gen-sdk"

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: gen-sdk <schema.json> <out dir> <version> <language>...")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen-sdk:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out, version string, languages []string) error {
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
	// The schema refers to no other package; the plugin loader is never asked to start a plugin.
	loader := schema.NewPluginLoader(nil)
	for _, lang := range languages {
		// Each generator imports its own language section, so bind afresh per language.
		pkg, err := schema.ImportSpec(spec, nil, loader, schema.ValidationOptions{})
		if err != nil {
			return fmt.Errorf("binding the schema: %w", err)
		}
		var files map[string][]byte
		switch lang {
		case "nodejs":
			files, err = nodejsgen.GeneratePackage(tool, pkg, nil, nil, false, loader)
		case "python":
			files, err = pythongen.GeneratePackage(tool, pkg, nil, loader)
		case "go":
			files, err = gogen.GeneratePackage(tool, pkg, nil)
		default:
			return fmt.Errorf("no generator here for %q (nodejs, python, go)", lang)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
		for name, content := range files {
			p := filepath.Join(out, lang, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, content, 0o644); err != nil {
				return err
			}
		}
		fmt.Printf("%s: %d files\n", lang, len(files))
	}
	return nil
}
