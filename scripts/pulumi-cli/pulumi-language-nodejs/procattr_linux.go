package main

import "syscall"

// childAttributes makes the kernel send SIGTERM to the program when this host's thread that
// started it ends, which on Linux includes this host being killed outright.
func childAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
