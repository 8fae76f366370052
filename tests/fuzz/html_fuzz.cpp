// NAME
//   html_fuzz.cpp - libFuzzer target for HtmlToText
// DESCRIPTION
//   Input: 3 bytes of chunk plan (fuzz.hpp), then HTML. The HTML is
//   converted whole and again in the planned pieces; html.hpp promises that
//   tags, comments and entities may cross piece boundaries, so both runs
//   must give the same text, counts and links. The link ceilings are
//   checked too.
#include "fuzz.hpp"
#include "mime/html.hpp"

#include <string>

using rampart::mime::HtmlToText;

namespace {

struct Result {
    std::string text;
    std::size_t visible, hidden, tiny, images;
    std::vector<rampart::mime::HtmlLink> links;
};

Result convert(std::string_view plan, std::string_view html)
{
    HtmlToText h;
    Result r;
    rampart::fuzz::Chunks chunks(plan, html);
    for (auto piece = chunks.next(); !piece.empty(); piece = chunks.next())
        h.feed(piece, r.text);
    h.finish(r.text);
    r.visible = h.visible_chars();
    r.hidden = h.hidden_chars();
    r.tiny = h.tiny_chars();
    r.images = h.images();
    r.links = h.links();
    return r;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    rampart::fuzz::quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in = rampart::fuzz::as_view(data, size);
    const std::string_view plan = rampart::fuzz::take(in, 3);
    const Result whole = convert({}, in);
    const Result pieces = convert(plan, in);

    CONTRACT(whole.links.size() <= HtmlToText::kMaxLinks);
    for (const auto& l : whole.links) {
        CONTRACT(l.href.size() <= HtmlToText::kMaxLinkBytes);
        CONTRACT(l.text.size() <= HtmlToText::kMaxLinkBytes);
    }
    CONTRACT(whole.visible <= whole.text.size());
    CONTRACT(pieces.text == whole.text);
    CONTRACT(pieces.visible == whole.visible);
    CONTRACT(pieces.hidden == whole.hidden);
    CONTRACT(pieces.tiny == whole.tiny);
    CONTRACT(pieces.images == whole.images);
    CONTRACT(pieces.links.size() == whole.links.size());
    for (std::size_t i = 0; i < whole.links.size(); ++i) {
        CONTRACT(pieces.links[i].href == whole.links[i].href);
        CONTRACT(pieces.links[i].text == whole.links[i].text);
    }
    return 0;
}
