#include "config/alarm_rule.h"

#include <cctype>

namespace ballast::config {

namespace {

class RuleParser {
 public:
  explicit RuleParser(const std::string& text) : text_(text) {}

  std::shared_ptr<const AlarmRule> parse(std::string* error) {
    auto rule = expression();
    skip_space();
    if (rule && pos_ != text_.size()) fail("unexpected \"" + text_.substr(pos_, 10) + "\"");
    if (!error_.empty()) {
      *error = error_;
      return nullptr;
    }
    return rule;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  void fail(const std::string& what) {
    if (error_.empty()) error_ = "rule, column " + std::to_string(pos_ + 1) + ": " + what;
  }
  // Consumes `word` when it comes next as a whole word.
  bool keyword(const char* word) {
    skip_space();
    size_t n = std::char_traits<char>::length(word);
    if (text_.compare(pos_, n, word) != 0) return false;
    if (pos_ + n < text_.size() &&
        (isalnum(static_cast<unsigned char>(text_[pos_ + n])) || text_[pos_ + n] == '_')) {
      return false;
    }
    pos_ += n;
    return true;
  }
  bool symbol(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::shared_ptr<const AlarmRule> combine(
      AlarmRule::Kind kind, bool (RuleParser::*next_op)(),
      std::shared_ptr<const AlarmRule> (RuleParser::*operand)()) {
    auto first = (this->*operand)();
    if (!first) return nullptr;
    if (!(this->*next_op)()) return first;
    auto node = std::make_shared<AlarmRule>();
    node->kind = kind;
    node->operands.push_back(first);
    do {
      auto more = (this->*operand)();
      if (!more) return nullptr;
      node->operands.push_back(more);
    } while ((this->*next_op)());
    return node;
  }
  bool or_op() { return keyword("OR"); }
  bool and_op() { return keyword("AND"); }
  std::shared_ptr<const AlarmRule> expression() {
    return combine(AlarmRule::Kind::kOr, &RuleParser::or_op, &RuleParser::term);
  }
  std::shared_ptr<const AlarmRule> term() {
    return combine(AlarmRule::Kind::kAnd, &RuleParser::and_op, &RuleParser::factor);
  }

  std::shared_ptr<const AlarmRule> factor() {
    auto node = std::make_shared<AlarmRule>();
    if (keyword("NOT")) {
      auto inner = factor();
      if (!inner) return nullptr;
      node->kind = AlarmRule::Kind::kNot;
      node->operands.push_back(inner);
      return node;
    }
    if (symbol('(')) {
      auto inner = expression();
      if (!inner) return nullptr;
      if (!symbol(')')) {
        fail("expected \")\"");
        return nullptr;
      }
      return inner;
    }
    if (keyword("TRUE")) {
      node->constant = true;
      return node;
    }
    if (keyword("FALSE")) return node;  // kConstant, false
    for (const char* state : {"ALARM", "OK", "INSUFFICIENT_DATA"}) {
      if (keyword(state)) {
        node->kind = AlarmRule::Kind::kState;
        node->state = state;
        if (!symbol('(')) {
          fail(std::string("expected \"(\" after ") + state);
          return nullptr;
        }
        node->alarm = name();
        if (node->alarm.empty()) {
          fail("expected an alarm name");
          return nullptr;
        }
        if (!symbol(')')) {
          fail("expected \")\"");
          return nullptr;
        }
        return node;
      }
    }
    skip_space();
    fail(pos_ == text_.size() ? "the rule ends too soon"
                              : "expected ALARM(name), OK(name), INSUFFICIENT_DATA(name), NOT, "
                                "TRUE, FALSE or \"(\"");
    return nullptr;
  }

  std::string name() {
    skip_space();
    std::string out;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      size_t end = text_.find('"', pos_ + 1);
      if (end == std::string::npos) return {};
      out = text_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return out;
    }
    while (pos_ < text_.size() &&
           (isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
            text_[pos_] == '_' || text_[pos_] == '.')) {
      out.push_back(text_[pos_++]);
    }
    return out;
  }

  const std::string& text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::shared_ptr<const AlarmRule> AlarmRule::parse(const std::string& text, std::string* error) {
  return RuleParser(text).parse(error);
}

void AlarmRule::names(std::vector<std::string>* out) const {
  if (kind == Kind::kState) out->push_back(alarm);
  for (const auto& o : operands) o->names(out);
}

}  // namespace ballast::config
