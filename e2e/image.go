package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Guest-side addresses. QEMU's user network owns 169.254.0.0/16 in the
// rehearsal, so the IMDS double sits at the address EC2 uses and the S3
// server at another link-local address (each host service needs its own
// guestfwd address: with restrict=on the gateway forwards nothing).
const (
	GuestIMDSAddr = "169.254.169.254:80"
	GuestS3Addr   = "169.254.0.50:80"
	GuestSSMAddr  = "169.254.0.51:80"
)

// imagePackages is the guest: what an Amazon Linux 2023 instance offers the
// user data (systemd, cloud-init, the AWS CLI, curl, ps), on a Debian kernel.
var imagePackages = []string{
	"systemd", "systemd-sysv", "udev", "cloud-init", "awscli", "curl",
	"procps", "ca-certificates", "linux-image-cloud-amd64",
}

// imageFiles are written into the guest's root file system. Only the first
// two change what the user data or the service sees (see the package doc);
// the rest configure the rehearsal VM itself.
var imageFiles = map[string]string{
	// Difference 1: Debian's AWS CLI 2.9 ignores AWS_ENDPOINT_URL.
	"/usr/bin/aws": `#!/bin/sh
# bucketls rehearsal: send the AWS CLI to the local S3 server, and its ssm
# commands to the local Parameter Store. The real CLI was moved aside with
# dpkg-divert.
endpoint=http://` + GuestS3Addr + `
[ "$1" != ssm ] || endpoint=http://` + GuestSSMAddr + `
exec /usr/bin/aws.distrib --endpoint-url "$endpoint" "$@"
`,
	// Difference 2: the service finds the local S3 server.
	"/etc/systemd/system/bucketls.service.d/10-rehearsal-endpoint.conf": `# bucketls rehearsal: point the service at the local S3 server.
[Service]
Environment=BUCKETLS_S3_ENDPOINT=http://` + GuestS3Addr + `
`,
	// Observation only: cloud-init's verdict, the service's user and its
	// serving line, on ttyS1.
	"/usr/local/sbin/rehearsal-report": `#!/bin/sh
exec >/dev/ttyS1 2>&1
echo "report-begin"
cloud-init status --long --wait
echo "cloud_init_exit=$?"
# Which stages failed and why, as cloud-init recorded it.
echo "cloud_init_errors=$(python3 -c 'import json; print(json.dumps(json.load(open("/run/cloud-init/result.json"))["v1"]["errors"]))')"
echo "bucketls_active=$(systemctl is-active bucketls.service)"
pid=$(systemctl show --property=MainPID --value bucketls.service 2>/dev/null || echo 0)
echo "bucketls_pid=$pid"
if [ -n "$pid" ] && [ "$pid" != 0 ]; then
	echo "bucketls_user=$(ps -o user= -p "$pid")"
	echo "bucketls_uid=$(ps -o uid= -p "$pid" | tr -d ' ')"
fi
if [ -e /usr/local/bin/bucketls ]; then echo "binary_installed=yes"; else echo "binary_installed=no"; fi
# The service's "serving" line, as its unit logged it to the journal; the
# boot script saw /healthz answer, so the line is written, but give the
# journal a few seconds to have it.
for i in 1 2 3 4 5 6 7 8 9 10; do
	serving=$(journalctl --no-pager --output=cat --unit bucketls.service | grep -m1 '"msg":"serving"')
	[ -z "$serving" ] || break
	sleep 1
done
echo "bucketls_serving=$serving"
echo "report-end"
`,
	"/etc/systemd/system/rehearsal-report.service": `[Unit]
Description=bucketls rehearsal report (observes cloud-init and bucketls)
After=cloud-final.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/rehearsal-report

[Install]
WantedBy=cloud-init.target
`,
	"/etc/systemd/network/10-dhcp.network": `[Match]
Name=en* eth*

[Network]
DHCP=ipv4
`,
	// NoCloud only: never let cloud-init take the IMDS double for its own
	// datasource. The image is already the size it needs; it has no SSH
	// server and no locales package, so those modules are off and cannot
	// fail the boot for reasons that are not the user data's.
	"/etc/cloud/cloud.cfg.d/90-rehearsal.cfg": `datasource_list: [NoCloud, None]
network: {config: disabled}
resize_rootfs: false
growpart: {mode: "off"}
ssh_genkeytypes: []
ssh_deletekeys: false
locale: false
`,
	"/etc/fstab":    "/dev/vda / ext4 defaults 0 1\n",
	"/etc/hostname": "bucketls-rehearsal\n",
}

// imageSetup runs inside the guest's root after the files are in place.
var imageSetup = []string{
	"dpkg-divert --local --rename --add /usr/bin/aws",
	"systemctl enable systemd-networkd.service rehearsal-report.service",
	// Timers that would start apt in the middle of a rehearsal.
	"systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer",
}

// Image is a bootable guest: a raw ext4 root file system and the kernel and
// initrd to boot it directly.
type Image struct {
	Root, Kernel, Initrd string
}

// imageRecipeKey names a build of the image, so a cache directory holds one
// image per recipe.
func imageRecipeKey(suite, mirror string) string {
	h := sha256.New()
	fmt.Fprintln(h, suite, mirror, strings.Join(imagePackages, ","), strings.Join(imageSetup, ";"))
	paths := make([]string, 0, len(imageFiles))
	for p := range imageFiles {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%s\x00", p, imageFiles[p])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// BuildImage builds the guest image into dir with mmdebstrap (Debian
// packages only) and mkfs.ext4 -d. It writes progress to log. When dir
// already holds an image of the same recipe, it is reused.
func BuildImage(dir, suite, mirror string, log func(string, ...any)) (Image, error) {
	key := imageRecipeKey(suite, mirror)
	img := Image{
		Root:   filepath.Join(dir, "root-"+key+".raw"),
		Kernel: filepath.Join(dir, "vmlinuz-"+key),
		Initrd: filepath.Join(dir, "initrd-"+key),
	}
	if allExist(img.Root, img.Kernel, img.Initrd) {
		log("image: reusing %s", img.Root)
		return img, nil
	}
	work, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return img, err
	}
	defer os.RemoveAll(work)

	overlay := filepath.Join(work, "overlay")
	if err := writeOverlay(overlay); err != nil {
		return img, err
	}
	rootfs := filepath.Join(work, "rootfs")
	args := []string{
		"--variant=apt", "--include=" + strings.Join(imagePackages, ","),
		// Leave out what nobody reads in a throwaway guest.
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		// Divert the packaged aws before the overlay puts the wrapper there.
		`--customize-hook=chroot "$1" ` + imageSetup[0],
		"--customize-hook=sync-in " + overlay + " /",
	}
	for _, c := range imageSetup[1:] {
		args = append(args, `--customize-hook=chroot "$1" `+c)
	}
	args = append(args, suite, rootfs, mirror)
	cmd := exec.Command("mmdebstrap", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return img, fmt.Errorf("mmdebstrap: %w\n%s", err, tail(out, 40))
	}
	if err := copyBootFiles(rootfs, img); err != nil {
		return img, err
	}
	tmpRoot := img.Root + ".tmp"
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-L", "root", "-d", rootfs, tmpRoot, "2G").CombinedOutput(); err != nil {
		os.Remove(tmpRoot)
		return img, fmt.Errorf("mkfs.ext4: %w: %s", err, out)
	}
	return img, os.Rename(tmpRoot, img.Root)
}

// writeOverlay writes imageFiles under dir, scripts executable, for
// mmdebstrap to copy into the guest's root.
func writeOverlay(dir string) error {
	for p, content := range imageFiles {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			return err
		}
	}
	return nil
}

// copyBootFiles copies the guest's one kernel and initrd out of rootfs to
// where img boots them from.
func copyBootFiles(rootfs string, img Image) error {
	kernels, _ := filepath.Glob(filepath.Join(rootfs, "boot", "vmlinuz-*"))
	initrds, _ := filepath.Glob(filepath.Join(rootfs, "boot", "initrd.img-*"))
	if len(kernels) != 1 || len(initrds) != 1 {
		return fmt.Errorf("want one kernel and one initrd in /boot, found %v %v", kernels, initrds)
	}
	if err := copyFile(kernels[0], img.Kernel); err != nil {
		return err
	}
	return copyFile(initrds[0], img.Initrd)
}

func allExist(paths ...string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// tail returns the last n lines of out: enough to see why a tool failed.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
