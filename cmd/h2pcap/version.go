package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version says which build this is, from what the go command records in
// the binary: the module version, and with a build from a git checkout
// the commit, its time and whether the tree had changes. The go command
// records no build time, so the commit's time is what dates the binary.
// Under go run and go test there is no VCS information: "unknown".
func version() string {
	info, ok := debug.ReadBuildInfo()
	return versionString(info, ok)
}

func versionString(info *debug.BuildInfo, ok bool) string {
	v, revision, at, modified := "unknown", "unknown", "unknown", ""
	if ok {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	goVersion := runtime.Version()
	if ok && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	var b strings.Builder
	b.WriteString("h2pcap " + v + ", revision " + revision + modified + ", commit time " + at)
	b.WriteString(", " + goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH)
	return b.String()
}
