//! Reading the census XML one `<Child>` at a time: each child element
//! becomes a small tree of named nodes with their text; the header's
//! collection year is read on the way.

use quick_xml::events::Event;
use std::io::BufRead;

/// An element: its local name (without a namespace prefix), its text and
/// its child elements.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Node {
    /// Local name.
    pub name: String,
    /// Text content, trimmed.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Node>,
}

impl Node {
    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|node| node.name == name)
    }

    /// Every child element named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |node| node.name == name)
    }

    /// The text of the first child element named `name`; `None` when
    /// absent or blank.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|node| node.text.as_str())
            .filter(|text| !text.is_empty())
    }
}

/// Why the XML could not be read.
#[derive(Debug)]
pub struct XmlError {
    /// Byte offset of the problem.
    pub position: u64,
    /// The parser's message.
    pub message: String,
}

/// Streams `<Child>` elements; elements outside them (the header) are
/// kept as `(path, text)` pairs of their leaves.
pub struct Children<R: BufRead> {
    reader: quick_xml::Reader<R>,
    /// Leaf texts outside `<Child>`: `Message/Header/CollectionDetails/Year` etc.
    pub outside: Vec<(String, String)>,
    path: Vec<String>,
}

impl<R: BufRead> Children<R> {
    /// A reader of `source`.
    pub fn new(source: R) -> Children<R> {
        let mut reader = quick_xml::Reader::from_reader(source);
        reader.config_mut().trim_text(true);
        Children {
            reader,
            outside: Vec::new(),
            path: Vec::new(),
        }
    }

    fn error(&self, message: impl ToString) -> XmlError {
        XmlError {
            position: self.reader.buffer_position(),
            message: message.to_string(),
        }
    }

    /// The next `<Child>`, or `None` at the end of the document.
    pub fn next_child(&mut self) -> Result<Option<Node>, XmlError> {
        // The elements open inside the child being read.
        let mut stack: Vec<Node> = Vec::new();
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            let event = self
                .reader
                .read_event_into(&mut buffer)
                .map_err(|error| XmlError {
                    position: self.reader.error_position(),
                    message: error.to_string(),
                })?;
            match event {
                Event::Start(start) => {
                    let name = String::from_utf8_lossy(start.local_name().as_ref()).to_string();
                    if stack.is_empty() && name != "Child" {
                        self.path.push(name);
                    } else {
                        stack.push(Node {
                            name,
                            ..Node::default()
                        });
                    }
                }
                Event::Empty(start) => {
                    let name = String::from_utf8_lossy(start.local_name().as_ref()).to_string();
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node {
                            name,
                            ..Node::default()
                        }),
                        None if name == "Child" => {
                            return Ok(Some(Node {
                                name,
                                ..Node::default()
                            }))
                        }
                        None => {}
                    }
                }
                Event::Text(text) => {
                    let text = text.decode().map_err(|error| self.error(error))?;
                    self.push_text(&mut stack, &text);
                }
                Event::CData(data) => {
                    let text = data.decode().map_err(|error| self.error(error))?;
                    self.push_text(&mut stack, &text);
                }
                Event::GeneralRef(reference) => {
                    let text = match reference
                        .resolve_char_ref()
                        .map_err(|error| self.error(error))?
                    {
                        Some(c) => c.to_string(),
                        None => match reference
                            .decode()
                            .map_err(|error| self.error(error))?
                            .as_ref()
                        {
                            "amp" => "&".into(),
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            other => {
                                return Err(self.error(format!(
                                    "unknown entity '{}'",
                                    other.chars().take(16).collect::<String>()
                                )))
                            }
                        },
                    };
                    self.push_text(&mut stack, &text);
                }
                Event::End(_) => match stack.pop() {
                    Some(mut node) => {
                        node.text = node.text.trim().to_string();
                        match stack.last_mut() {
                            Some(parent) => parent.children.push(node),
                            None => return Ok(Some(node)),
                        }
                    }
                    None => {
                        self.path.pop();
                    }
                },
                Event::Eof => {
                    if !stack.is_empty() || !self.path.is_empty() {
                        return Err(self.error("the document ends inside an element"));
                    }
                    return Ok(None);
                }
                Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
            }
        }
    }

    fn push_text(&mut self, stack: &mut [Node], text: &str) {
        match stack.last_mut() {
            Some(node) => node.text.push_str(text),
            None => {
                let path = self.path.join("/");
                match self.outside.last_mut() {
                    Some((last, held)) if *last == path => held.push_str(text),
                    _ => self.outside.push((path, text.to_string())),
                }
            }
        }
    }

    /// The text of a leaf outside the children, by its path.
    pub fn outside_text(&self, path: &str) -> Option<&str> {
        self.outside
            .iter()
            .find(|(held, _)| held == path)
            .map(|(_, text)| text.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_stream_one_at_a_time_with_the_header_on_the_side() {
        let xml = r#"<?xml version="1.0"?>
<Message><Header><CollectionDetails><Year>2021</Year></CollectionDetails></Header>
<Children>
  <Child><ChildIdentifiers><LAchildID>A&amp;1</LAchildID></ChildIdentifiers><Empty/></Child>
  <Child/>
</Children></Message>"#;
        let mut children = Children::new(xml.as_bytes());
        let first = children.next_child().unwrap().unwrap();
        assert_eq!(
            first
                .child("ChildIdentifiers")
                .unwrap()
                .text_of("LAchildID"),
            Some("A&1")
        );
        assert_eq!(first.text_of("Empty"), None);
        assert_eq!(
            children.outside_text("Message/Header/CollectionDetails/Year"),
            Some("2021")
        );
        assert_eq!(children.next_child().unwrap().unwrap().name, "Child");
        assert_eq!(children.next_child().unwrap(), None);
        let mut broken = Children::new("<Message><Children><Child>".as_bytes());
        assert!(broken.next_child().is_err());
    }
}
