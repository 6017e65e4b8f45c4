//! Generated posters for the demo catalogue: drawn here from the event's category colour and a
//! seed (a sky gradient, a sun, hills and stripes), never downloaded.
use app::events::Category;
use image::{DynamicImage, Rgb, RgbImage};

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 675;

/// The category's colour (the same as the site's stylesheet).
fn base(category: Category) -> [f32; 3] {
    let hex = match category {
        Category::StandUp => 0xe4572e,
        Category::Music => 0x5b3df5,
        Category::Theatre => 0xb5179e,
        Category::Dance => 0xf3a712,
        Category::Film => 0x29335c,
        Category::Talk => 0x0a9396,
        Category::Kids => 0x43aa8b,
        Category::Festival => 0xef476f,
        Category::Other => 0x6c757d,
    };
    [
        ((hex >> 16) & 0xff) as f32,
        ((hex >> 8) & 0xff) as f32,
        (hex & 0xff) as f32,
    ]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// A small deterministic generator, so the same seed draws the same poster.
fn unit(seed: u64, k: u64) -> f32 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x % 10_000) as f32 / 10_000.0
}

/// Draws one poster.
pub fn draw(category: Category, seed: u64) -> DynamicImage {
    let colour = base(category);
    let white = [255.0, 250.0, 240.0];
    let night = [18.0, 16.0, 40.0];
    let sky_top = mix(colour, night, 0.55);
    let sky_low = mix(colour, white, 0.35);
    let sun = mix(colour, white, 0.8);
    let hill = mix(colour, night, 0.75);
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let sun_x = w * (0.2 + 0.6 * unit(seed, 1));
    let sun_y = h * (0.25 + 0.25 * unit(seed, 2));
    let sun_r = h * (0.12 + 0.12 * unit(seed, 3));
    let phase = unit(seed, 4) * std::f32::consts::TAU;
    let freq = 1.5 + 3.0 * unit(seed, 5);
    let stripes = 10.0 + 30.0 * unit(seed, 6);
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let mut c = mix(sky_top, sky_low, fy / h);
        let d = ((fx - sun_x).powi(2) + (fy - sun_y).powi(2)).sqrt();
        if d < sun_r {
            c = sun;
        } else if d < sun_r * 1.6 {
            c = mix(sun, c, (d - sun_r) / (sun_r * 0.6));
        }
        let ridge = h * (0.68 + 0.08 * (fx / w * freq * std::f32::consts::TAU + phase).sin());
        if fy > ridge {
            c = hill;
            // Diagonal stripes over the hills.
            if ((fx + fy) / stripes) as i64 % 2 == 0 {
                c = mix(hill, colour, 0.35);
            }
        }
        Rgb([c[0] as u8, c[1] as u8, c[2] as u8])
    });
    DynamicImage::ImageRgb8(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posters_differ_by_seed_and_are_the_same_for_one_seed() {
        let a = draw(Category::Music, 1).to_rgb8();
        assert_eq!(a.dimensions(), (WIDTH, HEIGHT));
        assert_eq!(a, draw(Category::Music, 1).to_rgb8());
        assert_ne!(a, draw(Category::Music, 2).to_rgb8());
    }
}
