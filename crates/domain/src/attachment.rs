//! Files attached to a dispute's messages: which kinds are accepted, and the proof that a file is
//! of the kind its name claims.

use crate::{Digest, DomainError};

named_enum! {
    /// The kinds of file a dispute accepts, each named by its canonical extension.
    pub enum FileType in "file type" {
        Png => "png",
        Pdf => "pdf",
        Jpeg => "jpeg",
        Doc => "doc",
        Docx => "docx",
        Heic => "heic",
    }
}

/// HEIF major brands of still images and image sequences (ISO/IEC 23008-12): what an iPhone's
/// `.heic` carries in its `ftyp` box.
const HEIF_BRANDS: [&[u8; 4]; 10] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
];

impl FileType {
    /// The type a file name's extension names, case-insensitively (`.JPG` and `.jpeg` are both
    /// JPEG); `None` for any other extension or none.
    pub fn from_file_name(name: &str) -> Option<FileType> {
        let (_, extension) = name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "png" => Some(FileType::Png),
            "pdf" => Some(FileType::Pdf),
            "jpg" | "jpeg" => Some(FileType::Jpeg),
            "doc" => Some(FileType::Doc),
            "docx" => Some(FileType::Docx),
            "heic" => Some(FileType::Heic),
            _ => None,
        }
    }

    /// The IANA media type.
    pub fn media_type(self) -> &'static str {
        match self {
            FileType::Png => "image/png",
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Doc => "application/msword",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Heic => "image/heic",
        }
    }

    /// Whether `bytes` start the way a file of this type must (its magic number), so that an
    /// executable renamed to `.pdf` is told apart from a PDF.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            FileType::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            FileType::Pdf => bytes.starts_with(b"%PDF-"),
            FileType::Jpeg => bytes.starts_with(b"\xff\xd8\xff"),
            // Word 97-2003 files are OLE compound documents.
            FileType::Doc => bytes.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
            // Office Open XML files are ZIP archives; their first entry starts with a local
            // file header.
            FileType::Docx => bytes.starts_with(b"PK\x03\x04"),
            // An ISO base media file: a box size, then the `ftyp` box with a HEIF major brand.
            FileType::Heic => {
                bytes.get(4..8) == Some(b"ftyp".as_slice())
                    && bytes
                        .get(8..12)
                        .is_some_and(|brand| HEIF_BRANDS.iter().any(|b| b.as_slice() == brand))
            }
        }
    }
}

/// Why a file is refused. Each has a stable [`code`](AttachmentError::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// A name that is blank, too long, or could be read as a path.
    #[error("fileName must be 1-255 characters without control characters, '/' or '\\'")]
    InvalidName,
    /// The extension is not one of the accepted file types.
    #[error("fileName {name:?} must end in .png, .pdf, .jpg, .jpeg, .doc, .docx or .heic")]
    UnsupportedType { name: String },
    /// No bytes at all.
    #[error("the file is empty")]
    Empty,
    /// More bytes than an attachment may have.
    #[error("the file is {size} bytes; at most {max} are accepted", max = Attachment::MAX_BYTES)]
    TooLarge { size: u64 },
    /// The bytes are not a file of the type the name claims.
    #[error("the file's content is not a {file_type} file, as its name claims")]
    TypeMismatch { file_type: FileType },
}

impl AttachmentError {
    /// The stable code clients see; never rename one, only add.
    pub fn code(&self) -> &'static str {
        match self {
            AttachmentError::InvalidName => "invalid_file_name",
            AttachmentError::UnsupportedType { .. } => "unsupported_file_type",
            AttachmentError::Empty => "empty_file",
            AttachmentError::TooLarge { .. } => "file_too_large",
            AttachmentError::TypeMismatch { .. } => "file_type_mismatch",
        }
    }

    /// The request field at fault: the name or the content.
    pub fn field(&self) -> &'static str {
        match self {
            AttachmentError::InvalidName | AttachmentError::UnsupportedType { .. } => "fileName",
            AttachmentError::Empty
            | AttachmentError::TooLarge { .. }
            | AttachmentError::TypeMismatch { .. } => "file",
        }
    }
}

/// A file attached to a message: its name, type, size and SHA-256. The bytes themselves live in
/// a blob store under that digest; the dispute keeps only this description of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attachment {
    name: String,
    file_type: FileType,
    size: u64,
    sha256: Digest,
}

impl Attachment {
    /// The largest file accepted: 10 MiB.
    pub const MAX_BYTES: u64 = 10 * 1024 * 1024;

    /// Describes `bytes` named `name`, refusing a name that could be read as a path, a type not
    /// accepted, an empty or oversized file, and content whose magic number is not that of the
    /// type its name claims.
    pub fn inspect(name: impl Into<String>, bytes: &[u8]) -> Result<Self, DomainError> {
        let name = name.into();
        let name_ok = (1..=255).contains(&name.chars().count())
            && !name.trim().is_empty()
            && !name
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
            && name != "."
            && name != "..";
        if !name_ok {
            return Err(AttachmentError::InvalidName.into());
        }
        let file_type = FileType::from_file_name(&name)
            .ok_or_else(|| AttachmentError::UnsupportedType { name: name.clone() })?;
        let size = bytes.len() as u64;
        if size == 0 {
            return Err(AttachmentError::Empty.into());
        }
        if size > Self::MAX_BYTES {
            return Err(AttachmentError::TooLarge { size }.into());
        }
        if !file_type.matches(bytes) {
            return Err(AttachmentError::TypeMismatch { file_type }.into());
        }
        Ok(Attachment {
            name,
            file_type,
            size,
            sha256: Digest::of(bytes),
        })
    }

    /// Rebuilds an attachment as a store kept it. Nothing is checked here;
    /// [`Dispute::verify`](crate::Dispute::verify) does that.
    pub fn restore(name: String, file_type: FileType, size: u64, sha256: Digest) -> Self {
        Attachment {
            name,
            file_type,
            size,
            sha256,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn file_type(&self) -> FileType {
        self.file_type
    }

    pub fn media_type(&self) -> &'static str {
        self.file_type.media_type()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn sha256(&self) -> Digest {
        self.sha256
    }

    /// How sealed evidence refers to this file: `sha256:<hex>`.
    pub fn evidence_ref(&self) -> String {
        format!("sha256:{}", self.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
    const DOC: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0";
    const DOCX: &[u8] = b"PK\x03\x04\x14\0\x06\0";
    const HEIC: &[u8] = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0";
    const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0";

    fn code(result: Result<Attachment, DomainError>) -> &'static str {
        result.unwrap_err().code()
    }

    #[test]
    fn each_accepted_type_is_recognised_by_name_and_content() {
        for (name, bytes, file_type) in [
            ("photo.png", PNG, FileType::Png),
            ("invoice.PDF", PDF, FileType::Pdf),
            ("parcel.jpg", JPEG, FileType::Jpeg),
            ("parcel.JPEG", JPEG, FileType::Jpeg),
            ("letter.doc", DOC, FileType::Doc),
            ("letter.docx", DOCX, FileType::Docx),
            ("IMG_0001.HEIC", HEIC, FileType::Heic),
        ] {
            let attachment = Attachment::inspect(name, bytes).unwrap();
            assert_eq!(attachment.file_type(), file_type, "{name}");
            assert_eq!(attachment.name(), name);
            assert_eq!(attachment.size(), bytes.len() as u64);
            assert_eq!(attachment.sha256(), Digest::of(bytes));
            assert_eq!(
                attachment.evidence_ref(),
                format!("sha256:{}", Digest::of(bytes))
            );
        }
    }

    #[test]
    fn content_that_is_not_what_its_name_claims_is_refused() {
        for (name, bytes) in [
            ("invoice.pdf", PNG),
            ("invoice.pdf", EXE),
            ("photo.jpg", ELF),
            ("photo.png", JPEG),
            ("letter.docx", DOC),
            ("letter.doc", DOCX),
            ("photo.heic", b"\0\0\0\x18ftypmp42\0\0\0\0".as_slice()),
            ("photo.heic", b"ftyp".as_slice()),
        ] {
            assert_eq!(
                code(Attachment::inspect(name, bytes)),
                "file_type_mismatch",
                "{name}"
            );
        }
    }

    #[test]
    fn other_extensions_and_bad_names_are_refused() {
        for name in [
            "virus.exe",
            "notes.txt",
            "image.gif",
            "noextension",
            "png",
            "a.pdf.zip",
        ] {
            assert_eq!(
                code(Attachment::inspect(name, PDF)),
                "unsupported_file_type",
                "{name}"
            );
        }
        for name in ["", " ", "../etc/passwd.png", "a\\b.png", "a\nb.png", ".."] {
            assert_eq!(
                code(Attachment::inspect(name, PNG)),
                "invalid_file_name",
                "{name:?}"
            );
        }
        assert_eq!(
            code(Attachment::inspect(format!("{}.png", "a".repeat(252)), PNG)),
            "invalid_file_name"
        );
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        assert_eq!(code(Attachment::inspect("a.png", b"")), "empty_file");
        let mut big = PDF.to_vec();
        big.resize(Attachment::MAX_BYTES as usize + 1, b' ');
        assert_eq!(code(Attachment::inspect("a.pdf", &big)), "file_too_large");
        big.pop();
        assert!(Attachment::inspect("a.pdf", &big).is_ok());
    }

    #[test]
    fn errors_name_the_field_at_fault() {
        let field = |r: Result<Attachment, DomainError>| r.unwrap_err().field();
        assert_eq!(field(Attachment::inspect("a.exe", PDF)), Some("fileName"));
        assert_eq!(field(Attachment::inspect("a.pdf", PNG)), Some("file"));
    }
}
