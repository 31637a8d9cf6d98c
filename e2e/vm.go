package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// VMConfig describes one boot of the rehearsal guest.
type VMConfig struct {
	Image    Image
	Dir      string // scratch directory for the overlay disk, seed and logs
	UserData []byte // the cloud-init user data, passed byte for byte
	IMDS     string // host loopback address of the IMDS double
	S3       string // host loopback address of the S3 server
	SSM      string // host loopback address of the Parameter Store double
}

// VM is a running guest.
type VM struct {
	HTTPPort, HTTPSPort int // host loopback ports forwarded to guest 80 and 443
	ConsoleLog          string
	ReportLog           string
	cmd                 *exec.Cmd
	done                chan error
}

// Accel returns the QEMU accelerator to use. The KVM device on these
// machines may be a paravirtual layer that runs stock kernels far slower
// than software emulation, so KVM is used only when the CPU itself shows
// hardware virtualisation.
func Accel() string {
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	if _, err := os.Stat("/dev/kvm"); err == nil {
		for _, line := range strings.Split(string(cpuinfo), "\n") {
			if strings.HasPrefix(line, "flags") && (strings.Contains(line, " vmx") || strings.Contains(line, " svm")) {
				return "kvm"
			}
		}
	}
	return "tcg"
}

// BootVM starts the guest and returns once QEMU runs; the guest boots in the
// background. Stop it with Stop.
func BootVM(cfg VMConfig) (*VM, error) {
	disk := filepath.Join(cfg.Dir, "disk.qcow2")
	// A copy-on-write overlay: every boot starts from the same clean image.
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-b", cfg.Image.Root, "-F", "raw", disk).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("qemu-img: %w: %s", err, out)
	}
	seed := filepath.Join(cfg.Dir, "seed.iso")
	mime, err := CloudInitMIME(cfg.UserData)
	if err != nil {
		return nil, err
	}
	if err := WriteNoCloudSeed(seed, "i-"+filepath.Base(cfg.Dir), mime); err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpsPort, err := freePort()
	for err == nil && httpsPort == httpPort {
		httpsPort, err = freePort()
	}
	if err != nil {
		return nil, err
	}
	vm := &VM{
		HTTPPort: httpPort, HTTPSPort: httpsPort,
		ConsoleLog: filepath.Join(cfg.Dir, "console.log"),
		ReportLog:  filepath.Join(cfg.Dir, "report.log"),
		done:       make(chan error, 1),
	}
	netdev := strings.Join([]string{
		"user,id=n0,restrict=on,net=169.254.0.0/16",
		fmt.Sprintf("hostfwd=tcp:127.0.0.1:%d-:80", httpPort),
		fmt.Sprintf("hostfwd=tcp:127.0.0.1:%d-:443", httpsPort),
		// One socat per connection: a chardev guestfwd would take only one.
		fmt.Sprintf("guestfwd=tcp:%s-cmd:socat STDIO TCP:%s", GuestIMDSAddr, cfg.IMDS),
		fmt.Sprintf("guestfwd=tcp:%s-cmd:socat STDIO TCP:%s", GuestS3Addr, cfg.S3),
		fmt.Sprintf("guestfwd=tcp:%s-cmd:socat STDIO TCP:%s", GuestSSMAddr, cfg.SSM),
	}, ",")
	vm.cmd = exec.Command("qemu-system-x86_64",
		"-machine", "q35,accel="+Accel(), "-cpu", "max", "-smp", "2", "-m", "1024",
		"-nodefaults", "-display", "none", "-no-reboot",
		"-kernel", cfg.Image.Kernel, "-initrd", cfg.Image.Initrd,
		"-append", "root=/dev/vda rw console=ttyS0 panic=-1 net.ifnames=0",
		"-drive", "file="+disk+",if=virtio,format=qcow2",
		"-drive", "file="+seed+",if=virtio,format=raw,readonly=on",
		"-netdev", netdev, "-device", "virtio-net-pci,netdev=n0",
		"-serial", "file:"+vm.ConsoleLog, "-serial", "file:"+vm.ReportLog,
	)
	vm.cmd.Stdout, vm.cmd.Stderr = os.Stderr, os.Stderr
	// Its own process group, so Stop also ends the socat children.
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := vm.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start qemu: %w", err)
	}
	go func() { vm.done <- vm.cmd.Wait() }()
	return vm, nil
}

// Stop kills the guest and every process QEMU started, and waits for them.
func (vm *VM) Stop() {
	if vm.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-vm.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-vm.done:
	case <-time.After(10 * time.Second):
	}
}

// Exited reports whether QEMU has stopped, and why.
func (vm *VM) Exited() (bool, error) {
	select {
	case err := <-vm.done:
		vm.done <- err
		return true, err
	default:
		return false, nil
	}
}

// Report waits until the guest's report on the second serial port is
// complete and returns its key=value lines.
func (vm *VM) Report(ctx context.Context) (map[string]string, error) {
	for {
		b, _ := os.ReadFile(vm.ReportLog)
		if strings.Contains(string(b), "report-end") {
			report := map[string]string{}
			sc := bufio.NewScanner(strings.NewReader(string(b)))
			for sc.Scan() {
				line := strings.TrimRight(sc.Text(), "\r")
				if k, v, ok := strings.Cut(line, "="); ok && !strings.Contains(k, " ") {
					report[k] = v
				} else if s, ok := strings.CutPrefix(line, "status: "); ok {
					report["status"] = s
				}
			}
			return report, nil
		}
		if exited, err := vm.Exited(); exited {
			return nil, fmt.Errorf("qemu exited before the report: %v", err)
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("no report from the guest before the deadline")
		case <-time.After(time.Second):
		}
	}
}

// WaitConsole waits until the guest's console shows text.
func (vm *VM) WaitConsole(ctx context.Context, text string) error {
	for {
		if b, _ := os.ReadFile(vm.ConsoleLog); strings.Contains(string(b), text) {
			return nil
		}
		if exited, err := vm.Exited(); exited {
			return fmt.Errorf("qemu exited before the console showed %q: %v", text, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the console did not show %q before the deadline", text)
		case <-time.After(time.Second):
		}
	}
}

// initStarted is what the kernel prints as it hands over to userspace
// ("Run /init as init process"): everything before it is the kernel's.
const initStarted = " as init process"

// ReachedInit waits up to d for the guest kernel to start init, and
// reports whether it did.
func (vm *VM) ReachedInit(d time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return vm.WaitConsole(ctx, initStarted) == nil
}

// ConsoleTail returns the end of the guest's console, for failure messages.
func (vm *VM) ConsoleTail(n int) string {
	b, _ := os.ReadFile(vm.ConsoleLog)
	return tail(b, n)
}

// freePort picks a free loopback port below 32768, clear of the kernel's
// ephemeral range, so nothing else is handed the port before QEMU binds it.
func freePort() (int, error) {
	for i := 0; i < 50; i++ {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port in 20000-31999")
}
