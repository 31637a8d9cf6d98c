package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
)

// CloudInitMIME wraps a user-data script the way EC2 tooling does for
// cloud-init: one text/x-shellscript part. The part is base64-encoded
// because the 7-bit form mangles non-ASCII bytes, and the rehearsal promises
// the script arrives byte for byte.
func CloudInitMIME(script []byte) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {`text/x-shellscript; charset="utf-8"`},
		"Content-Transfer-Encoding": {"base64"},
		"Content-Disposition":       {`attachment; filename="bucketls-userdata.sh"`},
	})
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding.EncodeToString(script)
	for len(enc) > 76 {
		fmt.Fprintln(part, enc[:76])
		enc = enc[76:]
	}
	fmt.Fprintln(part, enc)
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "Content-Type: multipart/mixed; boundary=%q\r\nMIME-Version: 1.0\r\n\r\n", mw.Boundary())
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// WriteNoCloudSeed writes a cloud-init NoCloud seed ISO (volume label
// "cidata") holding the user data and an instance ID to path.
func WriteNoCloudSeed(path, instanceID string, userData []byte) error {
	dir, err := os.MkdirTemp(filepath.Dir(path), "seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	meta := fmt.Sprintf("instance-id: %s\nlocal-hostname: bucketls-rehearsal\n", instanceID)
	if err := os.WriteFile(filepath.Join(dir, "meta-data"), []byte(meta), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "user-data"), userData, 0o644); err != nil {
		return err
	}
	cmd := exec.Command("genisoimage", "-quiet", "-output", path, "-volid", "cidata", "-joliet", "-rock",
		filepath.Join(dir, "user-data"), filepath.Join(dir, "meta-data"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("genisoimage: %w: %s", err, out)
	}
	return nil
}
