package collector

import (
	"image"
	"image/color"
	"image/draw"
)

// withQuietZone puts img on a white square with margin pixels around it:
// scanners need the blank border.
func withQuietZone(img image.Image, margin int) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*margin, b.Dy()+2*margin))
	draw.Draw(out, out.Bounds(), &image.Uniform{C: color.White}, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(margin, margin, margin+b.Dx(), margin+b.Dy()), img, b.Min, draw.Src)
	return out
}
