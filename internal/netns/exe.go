package netns

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Nobody is the user and group id of the unprivileged user that tests run
// commands as.
const Nobody = 65534

// AsNobody is the SysProcAttr of a command run as Nobody: with no
// capabilities but those its executable's file capabilities give it.
func AsNobody() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody}}
}

// CopyExecutable copies the running test binary into a directory of the
// test that any user may enter, and gives the copy the file
// capabilities caps (unix.CAP_NET_ADMIN, ...), as `setcap CAPS+ep` does
// (effective and permitted; none if caps is empty). A test re-executes
// it as another user (see AsNobody) to see what a user without root
// can do. It returns the copy's path.
func CopyExecutable(t testing.TB, caps ...int) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// t.TempDir makes the directory and its parent for its own user.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, filepath.Base(exe))
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if len(caps) == 0 {
		return path
	}
	// struct vfs_cap_data, revision 2 (linux/capability.h): the magic
	// with the effective flag, then permitted and inheritable, low
	// and high 32 bits.
	var perm [2]uint32
	for _, c := range caps {
		perm[c/32] |= 1 << (c % 32)
	}
	const (
		vfsCapRevision2      = 0x02000000 // VFS_CAP_REVISION_2
		vfsCapFlagsEffective = 0x000001   // VFS_CAP_FLAGS_EFFECTIVE
	)
	xattr := binary.LittleEndian.AppendUint32(nil, vfsCapRevision2|vfsCapFlagsEffective)
	xattr = binary.LittleEndian.AppendUint32(xattr, perm[0])
	xattr = binary.LittleEndian.AppendUint32(xattr, 0)
	xattr = binary.LittleEndian.AppendUint32(xattr, perm[1])
	xattr = binary.LittleEndian.AppendUint32(xattr, 0)
	if err := unix.Setxattr(path, "security.capability", xattr, 0); err != nil {
		Skip(t, "cannot give %s file capabilities (setcap): %v", path, err)
	}
	return path
}
