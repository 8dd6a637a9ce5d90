package links

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QRCode renders text as a QR code (error correction M, a 4-module quiet
// zone): an SVG of one path, or a PNG about size pixels wide.
func QRCode(text string, svg bool, size int) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("encoding the qr code: %w", err)
	}
	n := code.Bounds().Dx()
	const quiet = 4
	if svg {
		var b strings.Builder
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n+2*quiet, n+2*quiet)
		fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`)
		for y := range n {
			for x := range n {
				if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
					fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
				}
			}
		}
		b.WriteString(`"/></svg>`)
		return []byte(b.String()), nil
	}
	px := max(size/(n+2*quiet), 1) // whole pixels per module: a sharp code
	scaled, err := barcode.Scale(code, n*px, n*px)
	if err != nil {
		return nil, fmt.Errorf("scaling the qr code: %w", err)
	}
	img := withQuietZone(scaled, quiet*px)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("writing the png: %w", err)
	}
	return buf.Bytes(), nil
}

// withQuietZone puts img on a white square with margin pixels around it:
// scanners need the blank border.
func withQuietZone(img image.Image, margin int) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*margin, b.Dy()+2*margin))
	draw.Draw(out, out.Bounds(), &image.Uniform{C: color.White}, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(margin, margin, margin+b.Dx(), margin+b.Dy()), img, b.Min, draw.Src)
	return out
}
