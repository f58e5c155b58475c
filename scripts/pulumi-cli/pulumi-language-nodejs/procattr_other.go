//go:build !linux

package main

import "syscall"

// childAttributes: no parent-death signal outside Linux; watchParent and stopChildren cover an
// engine that goes away, and the program itself exits when its engine connection fails.
func childAttributes() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
