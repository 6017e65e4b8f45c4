//! Event images: judged by their bytes (never by name or declared type), bounded before they are
//! decoded, re-encoded without metadata in two sizes, and stored on local disk or at Cloudinary.
use crate::config::Cloudinary;
use app::error::{AppError, Problem};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;
use std::path::PathBuf;
use std::time::Duration;

/// The largest upload accepted, in bytes.
pub const MAX_BYTES: usize = app::events::MAX_IMAGE_BYTES;
/// Decoded sides must lie within these bounds (pixels).
pub const MIN_SIDE: u32 = 100;
pub const MAX_SIDE: u32 = 8_000;
/// Decoded area bound: a small file that claims a huge canvas (a "decompression bomb") stops
/// here, before any pixel is decoded.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The stored sizes: the event page and the cards. Images are only ever scaled down.
pub const LARGE: u32 = 1600;
pub const SMALL: u32 = app::events::SMALL_IMAGE;
const JPEG_QUALITY: u8 = 84;

/// An image ready to store: JPEG bytes in both sizes.
pub struct Processed {
    pub large: Vec<u8>,
    pub small: Vec<u8>,
}

fn invalid(problem: Problem) -> AppError {
    AppError::field("image", problem)
}

/// Checks and re-encodes an upload. CPU-bound: call it from a blocking task.
pub fn process(bytes: &[u8]) -> Result<Processed, AppError> {
    if bytes.len() > MAX_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    if bytes.is_empty() {
        return Err(invalid(Problem::Required));
    }
    let format = image::guess_format(bytes).map_err(|_| invalid(Problem::ImageFormat))?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(invalid(Problem::ImageFormat));
    }
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
        reader.limits(limits);
        reader
    };
    let dimensions = || {
        invalid(Problem::ImageDimensions {
            min: MIN_SIDE,
            max: MAX_SIDE,
        })
    };
    let (width, height) = reader().into_dimensions().map_err(|e| match e {
        image::ImageError::Limits(_) => dimensions(),
        _ => invalid(Problem::ImageDamaged),
    })?;
    if width < MIN_SIDE
        || height < MIN_SIDE
        || width > MAX_SIDE
        || height > MAX_SIDE
        || u64::from(width) * u64::from(height) > MAX_PIXELS
    {
        return Err(dimensions());
    }
    let mut decoder = reader()
        .into_decoder()
        .map_err(|_| invalid(Problem::ImageDamaged))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => dimensions(),
        _ => invalid(Problem::ImageDamaged),
    })?;
    // Photos from phones are stored sideways with a rotation tag; the tag is dropped with the
    // rest of the metadata, so apply it to the pixels.
    image.apply_orientation(orientation);
    resize_and_encode(&image)
}

/// Both stored sizes of a decoded image, as JPEG without metadata.
pub fn resize_and_encode(image: &DynamicImage) -> Result<Processed, AppError> {
    let large = fit(image, LARGE);
    let small = fit(&large, SMALL);
    Ok(Processed {
        large: encode(&large)?,
        small: encode(&small)?,
    })
}

/// Scales down to fit a `side`×`side` box, keeping the aspect ratio.
fn fit(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width() <= side && image.height() <= side {
        image.clone()
    } else {
        image.resize(side, side, FilterType::CatmullRom)
    }
}

/// JPEG with transparent parts laid on white (JPEG has no alpha channel).
fn encode(image: &DynamicImage) -> Result<Vec<u8>, AppError> {
    let rgba = image.to_rgba8();
    let rgb = RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(app::ssr::internal)?;
    Ok(out)
}

/// Where a stored image lives: its public URL and the provider's id (to delete it later).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub url: String,
    pub provider_id: String,
}

/// Local disk or Cloudinary, chosen by configuration.
pub enum ImageStore {
    Local {
        dir: PathBuf,
    },
    Cloudinary {
        account: Cloudinary,
        http: reqwest::Client,
    },
}

/// The folder of stored images under the data dir, served at `/media`.
pub const LOCAL_PREFIX: &str = "/media";

impl ImageStore {
    pub fn new(data_dir: &std::path::Path, cloudinary: Option<Cloudinary>) -> anyhow::Result<Self> {
        Ok(match cloudinary {
            Some(account) => ImageStore::Cloudinary {
                account,
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()?,
            },
            None => {
                let dir = data_dir.join("media");
                std::fs::create_dir_all(&dir)?;
                ImageStore::Local { dir }
            }
        })
    }

    pub async fn put(&self, image: Processed) -> Result<Stored, AppError> {
        match self {
            ImageStore::Local { dir } => {
                let key = crate::random_hex(16);
                // The small file first: a URL is only handed out once both files exist.
                let small = dir.join(format!("{key}-{SMALL}.jpg"));
                tokio::fs::write(&small, &image.small)
                    .await
                    .map_err(app::ssr::internal)?;
                tokio::fs::write(dir.join(format!("{key}.jpg")), &image.large)
                    .await
                    .map_err(app::ssr::internal)?;
                Ok(Stored {
                    url: format!("{LOCAL_PREFIX}/{key}.jpg"),
                    provider_id: key,
                })
            }
            ImageStore::Cloudinary { account, http } => account.upload(http, image.large).await,
        }
    }

    /// Removes a stored image; failures are logged, not raised (the event no longer uses it).
    pub async fn delete(&self, provider_id: &str) {
        let outcome = match self {
            ImageStore::Local { dir } => {
                if !provider_id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return;
                }
                let large = tokio::fs::remove_file(dir.join(format!("{provider_id}.jpg"))).await;
                let small =
                    tokio::fs::remove_file(dir.join(format!("{provider_id}-{SMALL}.jpg"))).await;
                large.and(small).map_err(|e| e.to_string())
            }
            ImageStore::Cloudinary { account, http } => account.destroy(http, provider_id).await,
        };
        if let Err(error) = outcome {
            tracing::warn!(provider_id, %error, "could not delete a replaced image");
        }
    }
}

/// Cloudinary's answer to an upload.
#[derive(serde::Deserialize)]
struct Uploaded {
    secure_url: String,
    public_id: String,
}

/// The folder uploads go to in the Cloudinary account.
const FOLDER: &str = "eventhub/events";

impl Cloudinary {
    /// The signature Cloudinary documents: the parameters (without `file`, `api_key`,
    /// `resource_type`, `cloud_name`; empty values dropped) sorted by name, joined as
    /// `k=v&k=v`, the API secret appended, SHA-1, lower-case hex.
    pub fn sign(params: &[(&str, &str)], api_secret: &str) -> String {
        use sha1::{Digest, Sha1};
        let mut signed: Vec<_> = params
            .iter()
            .filter(|(k, v)| {
                !v.is_empty() && !matches!(*k, "file" | "api_key" | "resource_type" | "cloud_name")
            })
            .collect();
        signed.sort();
        let text = signed
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        Sha1::digest(format!("{text}{api_secret}"))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn endpoint(&self, action: &str) -> String {
        format!(
            "{}/v1_1/{}/image/{action}",
            self.api_base.trim_end_matches('/'),
            self.cloud_name
        )
    }

    fn signed_form(&self, params: &[(&'static str, String)]) -> reqwest::multipart::Form {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let signature = Self::sign(&borrowed, &self.api_secret.0);
        params
            .iter()
            .fold(reqwest::multipart::Form::new(), |form, (k, v)| {
                form.text(*k, v.clone())
            })
            .text("api_key", self.api_key.clone())
            .text("signature", signature)
    }

    async fn upload(&self, http: &reqwest::Client, jpeg: Vec<u8>) -> Result<Stored, AppError> {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let form = self
            .signed_form(&[("folder", FOLDER.into()), ("timestamp", timestamp)])
            .part(
                "file",
                reqwest::multipart::Part::bytes(jpeg)
                    .file_name("event.jpg")
                    .mime_str("image/jpeg")
                    .map_err(app::ssr::internal)?,
            );
        let failed = |detail: String| {
            tracing::warn!(%detail, "Cloudinary upload failed");
            AppError::Unavailable {
                service: "cloudinary".into(),
                retry_after_secs: 30,
            }
        };
        let response = http
            .post(self.endpoint("upload"))
            .multipart(form)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(failed(format!("{status}: {body}")));
        }
        let uploaded: Uploaded = response.json().await.map_err(|e| failed(e.to_string()))?;
        Ok(Stored {
            url: uploaded.secure_url,
            provider_id: uploaded.public_id,
        })
    }

    async fn destroy(&self, http: &reqwest::Client, public_id: &str) -> Result<(), String> {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let form = self.signed_form(&[
            ("public_id", public_id.to_owned()),
            ("timestamp", timestamp),
        ]);
        let response = http
            .post(self.endpoint("destroy"))
            .multipart(form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("Cloudinary answered {}", response.status()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_example_in_cloudinarys_documentation() {
        // https://cloudinary.com/documentation/authentication_signatures
        let params = [
            ("timestamp", "1315060510"),
            ("public_id", "sample_image"),
            ("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop"),
            ("api_key", "1234"),
            ("file", "ignored"),
        ];
        assert_eq!(
            Cloudinary::sign(&params, "abcd"),
            "bfd09f95f331f558cbd1320e67aa8d488770583e"
        );
    }
}
