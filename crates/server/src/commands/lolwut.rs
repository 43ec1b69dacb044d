//! LOLWUT [VERSION v] [args...]: computer art and the version, as Redis
//! 7.0 draws it. Version 5 is Georg Nees's "Schotter" in braille
//! characters, version 6 a skyline in the terminal's four grays, any other
//! (7.0's own) the version line alone. The art is random, as Redis's.

use rand::Rng;

use super::{eq, parse_int, Ctx};
use crate::error::CmdResult;
use crate::REDIS_VERSION;

/// LOLWUT.
pub fn lolwut(c: &mut Ctx) -> CmdResult {
    let mut version = REDIS_VERSION.to_string();
    let mut first = 1;
    if c.args.len() >= 3 && eq(&c.args[1], "version") {
        let v = parse_int(&c.args[2])?;
        // Redis prints it with %u: a negative version wraps around.
        version = format!("{}.0.0", v as u32);
        first = 3;
    }
    let b = version.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let text = if (at(0) == b'5' && at(1) == b'.' && at(2) != b'9')
        || (at(0) == b'4' && at(1) == b'.' && at(2) == b'9')
    {
        let [cols, per_row, per_col] = numbers(c, first, [66, 8, 12])?;
        let canvas = schotter(
            cols.clamp(1, 1000) as usize,
            per_row.clamp(1, 200) as usize,
            per_col.clamp(1, 200) as usize,
            c.eng.rng(),
        );
        let mut t = canvas.braille();
        t.push_str("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
        t.push_str(REDIS_VERSION);
        t.push('\n');
        t
    } else if (at(0) == b'6' && at(1) == b'.' && at(2) != b'9')
        || (at(0) == b'5' && at(1) == b'.' && at(2) == b'9')
    {
        let [cols, rows] = numbers(c, first, [80, 20])?;
        let mut canvas = Canvas::new(
            cols.clamp(1, 1000) as usize,
            rows.clamp(1, 1000) as usize,
            3,
        );
        skyline(&mut canvas, c.eng.rng());
        let mut t = canvas.grays();
        t.push_str(
            "\nDedicated to the 8 bit game developers of past and present.\n\
             Original 8 bit image from Plaguemon by hikikomori. Redis ver. ",
        );
        t.push_str(REDIS_VERSION);
        t.push('\n');
        t
    } else {
        format!("Redis ver. {REDIS_VERSION}\n")
    };
    c.verbatim(text.as_bytes());
    Ok(())
}

/// The optional numeric arguments from `first` on, over `defaults`: the
/// first one that is not an integer is refused, as Redis parses them.
fn numbers<const N: usize>(c: &Ctx, first: usize, defaults: [i64; N]) -> CmdResult<[i64; N]> {
    let mut v = defaults;
    for (i, slot) in v.iter_mut().enumerate() {
        if let Some(a) = c.args.get(first + i) {
            *slot = parse_int(a)?;
        }
    }
    Ok(v)
}

/// A grid of pixels, each one of four colors.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize, color: u8) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![color; width * height],
        }
    }

    fn set(&mut self, x: i64, y: i64, color: u8) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        self.pixels[x as usize + y as usize * self.width] = color;
    }

    fn get(&self, x: i64, y: i64) -> u8 {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return 0;
        }
        self.pixels[x as usize + y as usize * self.width]
    }

    /// Bresenham's line.
    fn line(&mut self, (mut x1, mut y1): (i64, i64), (x2, y2): (i64, i64), color: u8) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let (sx, sy) = (if x1 < x2 { 1 } else { -1 }, if y1 < y2 { 1 } else { -1 });
        let mut err = dx - dy;
        loop {
            self.set(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square of side `size` centred on (x, y), turned by `angle`.
    fn square(&mut self, x: i64, y: i64, size: f32, angle: f32, color: u8) {
        // The square inscribed in a circle of radius 1 has sides of
        // sqrt(2): `size` becomes the factor for unit coordinates.
        let size = (size / std::f32::consts::SQRT_2).round();
        let mut k = std::f32::consts::FRAC_PI_4 + angle;
        let mut p = [(0i64, 0i64); 4];
        for pt in &mut p {
            *pt = (
                (k.sin() * size + x as f32).round() as i64,
                (k.cos() * size + y as f32).round() as i64,
            );
            k += std::f32::consts::FRAC_PI_2;
        }
        for j in 0..4 {
            self.line(p[j], p[(j + 1) % 4], color);
        }
    }

    /// Each 2x4 block of pixels as one braille character (U+2800 on),
    /// one text line per 4 rows.
    fn braille(&self) -> String {
        let mut s = String::new();
        for y in (0..self.height as i64).step_by(4) {
            for x in (0..self.width as i64).step_by(2) {
                // Braille dot order: 0 3 / 1 4 / 2 5 / 6 7.
                let dots = [
                    (0, 0, 0),
                    (0, 1, 1),
                    (0, 2, 2),
                    (1, 0, 3),
                    (1, 1, 4),
                    (1, 2, 5),
                    (0, 3, 6),
                    (1, 3, 7),
                ];
                let byte = dots
                    .iter()
                    .filter(|(dx, dy, _)| self.get(x + dx, y + dy) != 0)
                    .fold(0u32, |b, (_, _, bit)| b | 1 << bit);
                s.push(char::from_u32(0x2800 + byte).unwrap_or(' '));
            }
            if y != self.height as i64 - 1 {
                s.push('\n');
            }
        }
        s
    }

    /// Each pixel as a space in one of the terminal's four grays.
    fn grays(&self) -> String {
        let mut s = String::new();
        for y in 0..self.height as i64 {
            for x in 0..self.width as i64 {
                let esc = match self.get(x, y) {
                    1 => "0;90;100m",
                    2 => "0;37;47m",
                    3 => "0;97;107m",
                    _ => "0;30;40m",
                };
                s.push_str("\x1b[");
                s.push_str(esc);
                s.push_str(" \x1b[0m");
            }
            if y != self.height as i64 - 1 {
                s.push('\n');
            }
        }
        s
    }
}

/// Georg Nees's "Schotter": rows of squares, rotated and shifted more at
/// random the lower they are, on a canvas `cols` characters wide.
fn schotter(cols: usize, per_row: usize, per_col: usize, rng: &mut impl Rng) -> Canvas {
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32) as usize + padding * 2;
    let mut canvas = Canvas::new(width, height, 0);
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i64;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i64;
            let mut angle = 0.0;
            if y > 1 {
                let mut r = || rng.gen::<f32>() / per_col as f32 * y as f32;
                let (mut r1, mut r2, mut r3) = (r(), r(), r());
                for v in [&mut r1, &mut r2, &mut r3] {
                    if rng.gen::<bool>() {
                        *v = -*v;
                    }
                }
                angle = r1;
                sx = (sx as f32 + r2 * side / 3.0) as i64;
                sy = (sy as f32 + r3 * side / 3.0) as i64;
            }
            canvas.square(sx, sy, side, angle, 1);
        }
    }
    canvas
}

/// A skyscraper standing at the bottom of the canvas.
struct Skyscraper {
    xoff: i64,
    width: i64,
    height: i64,
    windows: bool,
    color: u8,
}

fn skyscraper(canvas: &mut Canvas, s: &Skyscraper, rng: &mut impl Rng) {
    let start = canvas.height as i64 - 1;
    let end = start - s.height + 1;
    for y in (end..=start).rev() {
        for x in s.xoff..s.xoff + s.width {
            // The roof is four pixels narrower.
            if y == end && (x <= s.xoff + 1 || x >= s.xoff + s.width - 2) {
                continue;
            }
            let mut color = s.color;
            if s.windows
                && x > s.xoff + 1
                && x < s.xoff + s.width - 2
                && y > end + 1
                && y < start - 1
            {
                let (relx, rely) = (x - (s.xoff + 1), y - (end + 1));
                // Windows two pixels wide and one tall (terminal
                // characters are not square), each of one random gray.
                if (relx / 2) % 2 != 0 && rely % 2 != 0 {
                    color = loop {
                        let c = rng.gen_range(1..=2u8);
                        if c != s.color {
                            break c;
                        }
                    };
                    if relx % 2 != 0 {
                        color = canvas.get(x - 1, y);
                    }
                }
            }
            canvas.set(x, y, color);
        }
    }
}

/// A skyline as the parallax backgrounds of 8 bit games: two rows of
/// plain buildings in the lighter grays behind one of black buildings
/// with lit windows.
fn skyline(canvas: &mut Canvas, rng: &mut impl Rng) {
    let (w, h) = (canvas.width as i64, canvas.height as i64);
    let mut r = |n: i64| rng.gen_range(0..n.max(1));
    let mut plan = Vec::new();
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < w {
            offset += r(8);
            let width = 10 + r(9);
            let height = if color == 2 {
                h / 2 + r(h) / 2
            } else {
                h / 2 + r(h) / 3
            };
            plan.push(Skyscraper {
                xoff: offset,
                width,
                height,
                windows: false,
                color,
            });
            offset += if color == 2 { width / 2 } else { width + 1 };
        }
    }
    let mut offset = -10;
    while offset < w {
        offset += r(8);
        let mut width = 5 + r(14);
        if width % 4 != 0 {
            width += width % 3;
        }
        let height = h / 3 + r(h) / 2;
        plan.push(Skyscraper {
            xoff: offset,
            width,
            height,
            windows: true,
            color: 0,
        });
        offset += width + 5;
    }
    for s in &plan {
        skyscraper(canvas, s, rng);
    }
}
