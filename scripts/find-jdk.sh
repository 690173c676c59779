# Sourced by scripts/moe4j, scripts/test and .ci/run: sets JAVA_HOME to a JDK >= 25 and puts it first on PATH.
# Order: $JAVA_HOME if it is new enough, then `java` on PATH, then the usual install folders.
moe4j_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'; }
moe4j_find_jdk() {
  local cand
  for cand in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")" \
              /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/*-2[5-9]* /usr/lib/jvm/jdk-2[5-9]* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    local major; major=$(moe4j_java_major "$cand")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then echo "$cand"; return 0; fi
  done
  return 1
}
if ! JAVA_HOME=$(moe4j_find_jdk); then
  echo "moe4j: no JDK 25 or newer found (looked at \$JAVA_HOME, java on PATH, /usr/lib/jvm). Install one and set JAVA_HOME." >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
